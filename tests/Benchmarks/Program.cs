using BenchmarkDotNet.Running;

namespace EdgeMeter.Benchmarks;

internal static class BenchmarkProgram
{
    private static void Main(string[] args)
    {
        if (args is ["storage-io", ..])
        {
            StorageIo.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 600,
                args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 6);
            return;
        }
        if (args is ["timing", ..])
        {
            Environment.Exit(Timing.TimingLeakTest.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20_000));
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
    }
}
