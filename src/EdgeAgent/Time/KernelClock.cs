using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace EdgeMeter.Agent.Time;

/// <summary>What the kernel says about the system clock's synchronisation (adjtimex with no modes set: read only).</summary>
/// <param name="Synchronised">True when the kernel clock state is not TIME_ERROR and STA_UNSYNC is clear, i.e. an NTP daemon disciplines it.</param>
/// <param name="State">adjtimex's return: TIME_OK 0, TIME_INS 1, TIME_DEL 2, TIME_OOP 3, TIME_WAIT 4, TIME_ERROR 5.</param>
/// <param name="Status">The STA_* status bits.</param>
/// <param name="MaxErrorMicroseconds">Maximum error estimate the NTP daemon keeps, in microseconds.</param>
/// <param name="EstimatedErrorMicroseconds">Estimated error, in microseconds.</param>
internal readonly record struct KernelClockState(bool Synchronised, int State, int Status, long MaxErrorMicroseconds, long EstimatedErrorMicroseconds);

/// <summary>Reads the kernel's NTP state through adjtimex(2) on Linux.</summary>
internal static partial class KernelClock
{
    private const int TimeError = 5;
    private const int StaUnsync = 0x0040;

    /// <summary>Reads the state; false off Linux or when the call fails.</summary>
    public static bool TryRead(out KernelClockState state)
    {
        state = default;
        if (!OperatingSystem.IsLinux())
            return false;

        // struct timex: int modes, then longs offset, freq, maxerror, esterror, then int status, each
        // member aligned to the size of a C long. Read by offset so one buffer serves LP64 and ILP32.
        Span<byte> timex = stackalloc byte[512];
        timex.Clear();
        int result = Adjtimex(ref MemoryMarshal.GetReference(timex));
        if (result < 0)
            return false;

        int longSize = IntPtr.Size;
        long maxError = ReadLong(timex[(3 * longSize)..], longSize);
        long estError = ReadLong(timex[(4 * longSize)..], longSize);
        int status = BitConverter.IsLittleEndian
            ? BinaryPrimitives.ReadInt32LittleEndian(timex[(5 * longSize)..])
            : BinaryPrimitives.ReadInt32BigEndian(timex[(5 * longSize)..]);
        state = new KernelClockState(result != TimeError && (status & StaUnsync) == 0, result, status, maxError, estError);
        return true;
    }

    // Host byte order is the point here: the kernel fills a native struct.
    private static long ReadLong(ReadOnlySpan<byte> bytes, int size) => (size, BitConverter.IsLittleEndian) switch
    {
        (8, true) => BinaryPrimitives.ReadInt64LittleEndian(bytes),
        (8, false) => BinaryPrimitives.ReadInt64BigEndian(bytes),
        (_, true) => BinaryPrimitives.ReadInt32LittleEndian(bytes),
        _ => BinaryPrimitives.ReadInt32BigEndian(bytes),
    };

    [LibraryImport("libc", EntryPoint = "adjtimex", SetLastError = true)]
    private static partial int Adjtimex(ref byte timex);
}
