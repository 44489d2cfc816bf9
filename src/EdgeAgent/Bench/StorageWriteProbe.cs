using EdgeMeter.Agent.Storage;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Records;
using EdgeMeter.Crypto.Signing;

namespace EdgeMeter.Agent.Bench;

/// <summary>
/// Bytes written to disk per stored reading, as the SD card sees them: the kernel's write_bytes for this process
/// (/proc/self/io) over N commits of K records each, the records signed and stored as the poller does.
/// </summary>
internal static class StorageWriteProbe
{
    /// <summary>The result of one run.</summary>
    internal readonly record struct Result(long BytesWritten, long Records, TimeSpan Elapsed)
    {
        public double BytesPerRecord => BytesWritten / (double)Records;
    }

    /// <summary>Stores <paramref name="commits"/> × <paramref name="perCommit"/> records in a fresh store under <paramref name="directory"/>.</summary>
    public static Result Run(string directory, int commits, int perCommit)
    {
        using var key = FileDeviceKey.LoadOrCreate(Path.Combine(directory, "device.key"));
        var signer = new RecordSigner(key, Eip712Domain.ForReadings(31337));
        Sync();
        var before = WriteBytes();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var store = new RecordStore(directory))
        {
            var t = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            for (var c = 0; c < commits; c++)
            {
                var drafts = new ReadingRecord[perCommit];
                for (var i = 0; i < perCommit; i++)
                {
                    drafts[i] = new ReadingRecord
                    {
                        Device = "", Sequence = 0, PrevHash = ReadOnlyMemory<byte>.Empty,
                        MeterId = i < perCommit / 2 ? "grid-sdm630" : "pv-sdm120",
                        Obis = (i % 3) switch { 0 => "1-0:1.8.0*255", 1 => "1-0:2.8.0*255", _ => "1-0:16.7.0*255" },
                        Value = 1_000_000 + c, Scaler = 0, Unit = "Wh", Source = EnergySource.GridImport, Clean = false,
                        GatewayTimeMs = t + c * 1000L, TimeStatus = TimeStatus.Synchronised,
                    };
                }
                store.Append(drafts, signer);
                if (c % 5 == 4)
                    store.Confirm((ulong)((c - 2) * perCommit)); // receipts arrive a few commits behind
            }
        }
        Sync();
        return new Result(WriteBytes() - before, (long)commits * perCommit, clock.Elapsed);
    }

    private static void Sync() => System.Diagnostics.Process.Start("sync")?.WaitForExit();

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
