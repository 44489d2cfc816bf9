using System.Device.Gpio;
using EdgeMeter.Agent.Configuration;
using EdgeMeter.Agent.Display;
using EdgeMeter.Agent.Tests.Support;
using Iot.Device.Button;
using Xunit;

namespace EdgeMeter.Agent.Tests.Display;

public sealed class GatewayButtonTests
{
    /// <summary>The binding's button logic, pressed and released by the test.</summary>
    private sealed class TestButton(TimeSpan holding) : ButtonBase(TimeSpan.FromSeconds(1), holding, TimeSpan.Zero)
    {
        public void Down() => HandleButtonPressed();

        public void Up() => HandleButtonReleased();
    }

    private readonly ListLogger<GatewayButtonTests> _log = new();
    private int _short;
    private readonly ManualResetEventSlim _long = new();

    private GatewayButton Listen(ButtonBase button) => new(button, () => Interlocked.Increment(ref _short), _long.Set);

    [Fact]
    public void A_short_press_is_reported_at_its_release()
    {
        var button = new TestButton(TimeSpan.FromSeconds(30));
        using var listener = Listen(button);

        button.Down();
        Assert.Equal(0, _short);
        button.Up();

        Assert.Equal(1, _short);
        Assert.False(_long.IsSet);
    }

    [Fact]
    public void A_long_press_is_reported_while_held_and_its_release_is_not_a_short_press()
    {
        var button = new TestButton(TimeSpan.FromMilliseconds(50));
        using var listener = Listen(button);

        button.Down();
        Assert.True(_long.Wait(TimeSpan.FromSeconds(10)), "the holding timer never fired");
        button.Up();

        Assert.Equal(0, _short);
    }

    [Fact]
    public void A_bouncing_contact_on_the_gpio_line_is_one_press()
    {
        var chip = new SimulatedGpioDriver();
        using var button = GatewayButton.Open(new ButtonOptions { Pin = 17, DebounceMs = 50 }, () => Interlocked.Increment(ref _short), _long.Set, _log,
            () => new GpioController(chip));
        Assert.NotNull(button);
        Assert.Equal(PinMode.InputPullUp, chip.Modes[17]);

        // Pressed (to ground), three bounces within microseconds, then released well after the debounce time.
        chip.Drive(17, PinValue.Low);
        chip.Drive(17, PinValue.High);
        chip.Drive(17, PinValue.Low);
        chip.Drive(17, PinValue.High);
        chip.Drive(17, PinValue.Low);
        Thread.Sleep(300);
        chip.Drive(17, PinValue.High);

        Assert.Equal(1, _short);
        Assert.Equal(["Information: Button on GPIO line 17"], _log.Lines);
    }

    [Fact]
    public void No_gpio_library_means_no_button_said_once()
    {
        var button = GatewayButton.Open(new ButtonOptions(), () => { }, () => { }, _log,
            () => throw new DllNotFoundException("Unable to load shared library 'libgpiod.so.3' ... (a long list of paths)"));

        Assert.Null(button);
        Assert.Equal(["Warning: No button: GPIO line 17 cannot be opened (libgpiod is not installed); running without it"], _log.Lines);
    }

    [Fact]
    public void A_button_switched_off_in_the_configuration_is_not_opened()
    {
        bool opened = false;

        var button = GatewayButton.Open(new ButtonOptions { Pin = -1 }, () => { }, () => { }, _log, () => { opened = true; return new GpioController(new SimulatedGpioDriver()); });

        Assert.Null(button);
        Assert.False(opened);
        Assert.Equal(["Warning: No button: none configured (button.pin is -1); running without it"], _log.Lines);
    }
}
