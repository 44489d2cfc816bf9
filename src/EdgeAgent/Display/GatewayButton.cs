using System.Device.Gpio;
using EdgeMeter.Agent.Configuration;
using Iot.Device.Button;
using Microsoft.Extensions.Logging;

namespace EdgeMeter.Agent.Display;

/// <summary>
/// The gateway's push button, on dotnet/iot's debounced <see cref="GpioButton"/>: tells a short press from a long
/// one. A long press is reported once the button has been held for the long-press time, while still held; its release
/// is not also a short press.
/// </summary>
internal sealed partial class GatewayButton : IDisposable
{
    private readonly ButtonBase _button;
    private readonly Action _shortPress;
    private readonly Action _longPress;
    private int _held;

    /// <summary>Listens to <paramref name="button"/>, which it owns (disposes); enables its holding event.</summary>
    /// <param name="button">A <see cref="GpioButton"/>, or in tests any <see cref="ButtonBase"/>.</param>
    /// <param name="shortPress">Called on the release of a short press, on the button's thread.</param>
    /// <param name="longPress">Called once the button was held long enough, on a timer thread.</param>
    public GatewayButton(ButtonBase button, Action shortPress, Action longPress)
    {
        ArgumentNullException.ThrowIfNull(button);
        _button = button;
        _shortPress = shortPress;
        _longPress = longPress;
        button.IsHoldingEnabled = true;
        button.IsDoublePressEnabled = false;
        button.Holding += OnHolding;
        button.Press += OnPress;
    }

    /// <summary>
    /// Opens the button on the configured GPIO line (pressed pulls it to ground, the internal pull-up holds it high),
    /// or returns null and logs once why not: none configured, no GPIO chip, libgpiod missing.
    /// </summary>
    /// <param name="options">The validated button options.</param>
    /// <param name="shortPress">What a short press does.</param>
    /// <param name="longPress">What a long press does.</param>
    /// <param name="logger">Says whether there is a button.</param>
    /// <param name="controller">Opens the GPIO controller; the system's by default. A seam for tests.</param>
    public static GatewayButton? Open(ButtonOptions options, Action shortPress, Action longPress, ILogger logger, Func<GpioController>? controller = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Pin < 0)
        {
            LogNoButton(logger, "none configured (button.pin is -1)");
            return null;
        }

        GpioController? gpio = null;
        try
        {
            gpio = (controller ?? (static () => new GpioController()))();
            var button = new GpioButton(options.Pin, doublePress: TimeSpan.FromSeconds(1), holding: TimeSpan.FromMilliseconds(options.LongPressMs),
                isPullUp: true, hasExternalResistor: false, gpio, shouldDispose: true, debounceTime: TimeSpan.FromMilliseconds(options.DebounceMs));
            LogButton(logger, options.Pin);
            return new GatewayButton(button, shortPress, longPress);
        }
        catch (Exception e) when (e is PlatformNotSupportedException or DllNotFoundException or EntryPointNotFoundException
            or TypeInitializationException or IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            gpio?.Dispose();
            // The loader's message lists every path it tried; the journal needs one line.
            var reason = Innermost(e) is DllNotFoundException ? "libgpiod is not installed" : Innermost(e).Message;
            LogNoButton(logger, $"GPIO line {options.Pin} cannot be opened ({reason})");
            return null;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _button.Holding -= OnHolding;
        _button.Press -= OnPress;
        _button.Dispose();
    }

    private void OnHolding(object? sender, ButtonHoldingEventArgs e)
    {
        if (e.HoldingState == ButtonHoldingState.Started)
        {
            Volatile.Write(ref _held, 1);
            _longPress();
        }
    }

    private void OnPress(object? sender, EventArgs e)
    {
        // The binding raises Press at every release, also at the end of a hold.
        if (Interlocked.Exchange(ref _held, 0) == 1)
        {
            return;
        }

        _shortPress();
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is { } inner)
        {
            e = inner;
        }

        return e;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Button on GPIO line {Pin}")]
    private static partial void LogButton(ILogger logger, int pin);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No button: {Reason}; running without it")]
    private static partial void LogNoButton(ILogger logger, string reason);
}
