using EdgeMeter.Crypto.Hashing;
using System.Diagnostics;
using System.Security.Cryptography;
using EdgeMeter.Agent.Demo;
using EdgeMeter.Crypto.Keys;
using EdgeMeter.Crypto.Signing;
using EdgeMeter.Protocols.Modbus;
using Microsoft.Extensions.Logging.Abstractions;
using EdgeMeter.Crypto.Entropy;

namespace EdgeMeter.Agent.Bench;

/// <summary>What <c>edgemeter bench</c> measured on this board.</summary>
internal sealed record BenchResult(double SignPerSecond, double RecoverPerSecond, double ModbusReadsPerSecond, double BytesPerRecord, double DrainPerSecond);

/// <summary>
/// The figures an installer needs to know how many meters a board carries: signatures per second on one core,
/// signature recoveries per second (what the ledger and <c>verify</c> do per record), full SDM630 reads per second
/// from the simulated meter over loopback Modbus TCP, bytes written to disk per stored record with the default
/// group commit, and backlog records per second through MQTT to the in-process ledger with every signature and
/// link verified. <c>quick</c> shortens every phase (for tests); the figures are then rougher.
/// </summary>
internal static class GatewayBench
{
    public static async Task<BenchResult> RunAsync(bool quick, CancellationToken ct)
    {
        var phase = TimeSpan.FromSeconds(quick ? 0.3 : 2);
        double sign = MeasureSigning(phase, out var key, out var digests, out var signatures);
        double recover = MeasureRecovery(phase, key, digests, signatures);
        double reads = await MeasureModbusAsync(phase, ct).ConfigureAwait(false);

        var dir = Directory.CreateTempSubdirectory("edgemeter-bench-").FullName;
        try
        {
            // The shipped default: 6 records per 1 s poll, committed every 15 s, so 90 records per commit.
            var storage = StorageWriteProbe.Run(Path.Combine(dir, "storage"), quick ? 4 : 20, 90);
            double drain = await MeasureDrainAsync(Path.Combine(dir, "drain"), quick ? 2_000 : 20_000, ct).ConfigureAwait(false);
            return new BenchResult(sign, recover, reads, storage.BytesPerRecord, drain);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static double MeasureSigning(TimeSpan phase, out FileDeviceKey key, out byte[][] digests, out byte[][] signatures)
    {
        Span<byte> secret = stackalloc byte[32];
        do
            KernelRandom.Fill(secret);
        while (!IsValid(secret));
        key = FileDeviceKey.FromSecret(secret);
        CryptographicOperations.ZeroMemory(secret);

        var digest = new byte[32];
        var signature = new byte[65];
        for (int i = 0; i < 20; i++)
            key.SignDigest(digest, signature); // the fixed-base table is built outside the count

        long n = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < phase)
        {
            for (int i = 0; i < 64; i++, n++)
            {
                digest[0] = (byte)n;
                digest[1] = (byte)(n >> 8);
                digest[2] = (byte)(n >> 16);
                key.SignDigest(digest, signature);
            }
        }
        double rate = n / clock.Elapsed.TotalSeconds;

        // Distinct signed digests for the recovery phase.
        digests = new byte[64][];
        signatures = new byte[64][];
        for (int i = 0; i < digests.Length; i++)
        {
            digests[i] = Sha256.HashData(BitConverter.GetBytes(i));
            signatures[i] = new byte[65];
            key.SignDigest(digests[i], signatures[i]);
        }
        return rate;
    }

    private static bool IsValid(ReadOnlySpan<byte> secret)
    {
        try
        {
            using var probe = FileDeviceKey.FromSecret(secret);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static double MeasureRecovery(TimeSpan phase, FileDeviceKey key, byte[][] digests, byte[][] signatures)
    {
        using (key)
        {
            long n = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < phase)
            {
                for (int i = 0; i < digests.Length; i++, n++)
                {
                    if (!SignatureRecovery.TryRecoverAddress(digests[i], signatures[i], out var address) || address != key.Address)
                        throw new InvalidOperationException("bench: a signature did not recover to its key");
                }
            }
            return n / clock.Elapsed.TotalSeconds;
        }
    }

    private static async Task<double> MeasureModbusAsync(TimeSpan phase, CancellationToken ct)
    {
        await using var meters = new SimulatedMeters();
        meters.Start();
        await using var client = await ModbusClient.ConnectAsync(ModbusEndpoint.Parse(meters.Endpoint), ModbusClientOptions.Default, ct).ConfigureAwait(false);
        var reader = new MeterReader(client, SimulatedMeters.GridUnit, RegisterMapCatalog.LoadBuiltin(SimulatedMeters.GridMap));
        for (int i = 0; i < 20; i++)
            await reader.ReadAsync(ct).ConfigureAwait(false);

        long n = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < phase)
        {
            await reader.ReadAsync(ct).ConfigureAwait(false);
            n++;
        }
        return n / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> MeasureDrainAsync(string dataDirectory, int backlog, CancellationToken ct)
    {
        // The demo's whole path: outbox → MQTT (embedded broker) → ledger, verified; polling goes on beside it.
        var settings = new DemoSettings
        {
            DataDirectory = dataDirectory,
            HttpUrl = "http://127.0.0.1:0",
            Backlog = backlog,
            ExitAfter = TimeSpan.FromSeconds(120),
            StopWhenDrained = true,
        };
        var result = await new DemoRunner(settings, NullLoggerFactory.Instance).RunAsync(ct).ConfigureAwait(false);
        return result.DrainSeconds is { } seconds and > 0
            ? backlog / seconds
            : throw new InvalidOperationException($"bench: the backlog of {backlog} did not drain within 120 s");
    }
}
