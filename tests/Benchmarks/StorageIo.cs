using System.Diagnostics;
using EdgeMeter.Agent.Storage;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Benchmarks;

/// <summary>
/// Bytes written to disk per stored reading, as the SD card sees them: the kernel's write_bytes for this process
/// (/proc/self/io) over N poll cycles of K records each, one commit per cycle as the poller does, fsync'd.
/// Run: dotnet run -c Release --project tests/Benchmarks -- storage-io [cycles] [recordsPerCycle]
/// </summary>
internal static class StorageIo
{
    public static void Run(int cycles, int perCycle)
    {
        var dir = Directory.CreateTempSubdirectory("edgemeter-storage-io-").FullName;
        using var key = FileDeviceKey.LoadOrCreate(Path.Combine(dir, "device.key"));
        var signer = new RecordSigner(key, Eip712Domain.ForReadings(31337));
        var before = WriteBytes();
        var clock = Stopwatch.StartNew();
        using (var store = new RecordStore(dir))
        {
            var t = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            for (var c = 0; c < cycles; c++)
            {
                var drafts = new ReadingRecord[perCycle];
                for (var i = 0; i < perCycle; i++)
                {
                    drafts[i] = new ReadingRecord
                    {
                        Device = "", Sequence = 0, PrevHash = ReadOnlyMemory<byte>.Empty,
                        MeterId = i < perCycle / 2 ? "grid-sdm630" : "pv-sdm120",
                        Obis = (i % 3) switch { 0 => "1-0:1.8.0*255", 1 => "1-0:2.8.0*255", _ => "1-0:16.7.0*255" },
                        Value = 1_000_000 + c, Scaler = 0, Unit = "Wh", Source = EnergySource.GridImport, Clean = false,
                        GatewayTimeMs = t + c * 1000L, TimeStatus = TimeStatus.Synchronised,
                    };
                }
                store.Append(drafts, signer);
                if (c % 5 == 4)
                    store.Confirm((ulong)((c - 2) * perCycle)); // receipts arrive a few cycles behind
            }
        }
        Sync();
        var written = WriteBytes() - before;
        var records = (long)cycles * perCycle;
        Console.WriteLine($"{cycles} cycles x {perCycle} records: {written:N0} bytes written, {written / (double)records:N0} bytes per record, "
            + $"{written / (double)cycles:N0} bytes per cycle, {clock.Elapsed.TotalMilliseconds / cycles:N2} ms per cycle");
        Directory.Delete(dir, recursive: true);
    }

    private static void Sync() => Process.Start("sync")?.WaitForExit();

    private static long WriteBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/io"))
        {
            if (line.StartsWith("write_bytes:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(12).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
        return 0;
    }
}
