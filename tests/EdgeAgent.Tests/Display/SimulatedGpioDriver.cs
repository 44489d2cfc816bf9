using System.Device.Gpio;

namespace EdgeMeter.Agent.Tests.Display;

/// <summary>
/// A simulated GPIO chip: inputs with pull-ups that a test drives (a button to ground), raising the edge callbacks a
/// real chip's driver would.
/// </summary>
internal sealed class SimulatedGpioDriver : GpioDriver
{
    private readonly Dictionary<int, PinValue> _values = [];
    private readonly Dictionary<int, PinMode> _modes = [];
    private readonly List<(int Pin, PinEventTypes Types, PinChangeEventHandler Callback)> _callbacks = [];

    protected override int PinCount => 28;

    public IReadOnlyDictionary<int, PinMode> Modes => _modes;

    /// <summary>Drives <paramref name="pin"/> to <paramref name="value"/> and raises the callbacks for that edge.</summary>
    public void Drive(int pin, PinValue value)
    {
        List<PinChangeEventHandler> targets;
        lock (_callbacks)
        {
            if (_values.GetValueOrDefault(pin) == value)
            {
                return;
            }

            _values[pin] = value;
            var edge = value == PinValue.High ? PinEventTypes.Rising : PinEventTypes.Falling;
            targets = _callbacks.Where(c => c.Pin == pin && (c.Types & edge) != 0).Select(c => c.Callback).ToList();
        }

        var type = value == PinValue.High ? PinEventTypes.Rising : PinEventTypes.Falling;
        foreach (var callback in targets)
        {
            callback(this, new PinValueChangedEventArgs(type, pin));
        }
    }

    protected override void OpenPin(int pinNumber)
    {
        lock (_callbacks)
            _values.TryAdd(pinNumber, PinValue.Low);
    }

    protected override void ClosePin(int pinNumber)
    {
    }

    protected override void SetPinMode(int pinNumber, PinMode mode)
    {
        lock (_callbacks)
        {
            _modes[pinNumber] = mode;
            if (mode == PinMode.InputPullUp)
            {
                _values[pinNumber] = PinValue.High;
            }
        }
    }

    protected override PinMode GetPinMode(int pinNumber) => _modes.GetValueOrDefault(pinNumber, PinMode.Input);

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) => mode is PinMode.Input or PinMode.InputPullUp or PinMode.InputPullDown or PinMode.Output;

    protected override PinValue Read(int pinNumber)
    {
        lock (_callbacks)
            return _values.GetValueOrDefault(pinNumber);
    }

    protected override void Write(int pinNumber, PinValue value) => Drive(pinNumber, value);

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken) =>
        throw new NotSupportedException();

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback)
    {
        lock (_callbacks)
            _callbacks.Add((pinNumber, eventTypes, callback));
    }

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback)
    {
        lock (_callbacks)
            _callbacks.RemoveAll(c => c.Pin == pinNumber && c.Callback == callback);
    }
}
