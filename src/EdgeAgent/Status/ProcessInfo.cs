using System.Globalization;

namespace EdgeMeter.Agent.Status;

/// <summary>This process's resident memory, from <c>/proc/self/status</c> (Linux); 0 where it cannot be read.</summary>
internal static class ProcessMemory
{
    /// <summary>VmHWM: the peak resident set in kB.</summary>
    public static long PeakRssKb() => Field("VmHWM:");

    /// <summary>VmRSS: the resident set now, in kB.</summary>
    public static long RssKb() => Field("VmRSS:");

    private static long Field(string name)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(name, StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(name.Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return 0;
    }
}

/// <summary>Time since this process started, from the kernel's own accounts (Linux; 10 ms resolution).</summary>
internal static class ProcessClock
{
    /// <summary>
    /// Milliseconds since the process was started: /proc/uptime minus the start time in /proc/self/stat (both count
    /// from boot in clock ticks of 10 ms, so the figure is good to about 10 ms). -1 where they cannot be read.
    /// </summary>
    public static long SinceStartMs()
    {
        try
        {
            var uptime = File.ReadAllText("/proc/uptime");
            var seconds = double.Parse(uptime.AsSpan(0, uptime.IndexOf(' ')), CultureInfo.InvariantCulture);
            var stat = File.ReadAllText("/proc/self/stat");
            // Fields after the command name (which may hold spaces) start at field 3; starttime is field 22.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var startTicks = long.Parse(fields[22 - 3], CultureInfo.InvariantCulture);
            return (long)Math.Round(seconds * 1000) - startTicks * 10;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return -1;
        }
    }
}
