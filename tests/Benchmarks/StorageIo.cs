using EdgeMeter.Agent.Bench;

namespace EdgeMeter.Benchmarks;

/// <summary>
/// Bytes written to disk per stored reading (<see cref="StorageWriteProbe"/>, which <c>edgemeter bench</c> uses too)
/// over N poll cycles of K records each, one commit per cycle. Run:
/// dotnet run -c Release --project tests/Benchmarks -- storage-io [cycles] [recordsPerCycle]
/// </summary>
internal static class StorageIo
{
    public static void Run(int cycles, int perCycle)
    {
        var dir = Directory.CreateTempSubdirectory("edgemeter-storage-io-").FullName;
        var r = StorageWriteProbe.Run(dir, cycles, perCycle);
        Console.WriteLine($"{cycles} cycles x {perCycle} records: {r.BytesWritten:N0} bytes written, {r.BytesPerRecord:N0} bytes per record, "
            + $"{r.BytesWritten / (double)cycles:N0} bytes per cycle, {r.Elapsed.TotalMilliseconds / cycles:N2} ms per cycle");
        Directory.Delete(dir, recursive: true);
    }
}
