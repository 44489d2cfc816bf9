using System.Text.Json;
using EdgeMeter.Agent.Pairing;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace EdgeMeter.Agent.Tests.Pairing;

public sealed class FilePairingServiceTests : IDisposable
{
    private const string Operator = "0xAbCdEf0123456789abcdef0123456789ABCDEF01";
    private const string OperatorLower = "0xabcdef0123456789abcdef0123456789abcdef01";
    private static readonly DateTimeOffset Start = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "edgemeter-pairing-" + Guid.NewGuid().ToString("N"));
    private readonly ManualTimeProvider _time = new(Start);

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private FilePairingService Create() => new(_dir, _time, NullLogger<FilePairingService>.Instance);

    private static string WrongCode(string code) => ((int.Parse(code) + 1) % 1_000_000).ToString("D6");

    [Fact]
    public void Unpaired_gateway_issues_a_six_digit_code_valid_for_ten_minutes()
    {
        var service = Create();

        var code = service.CodeForDisplay();

        Assert.NotNull(code);
        Assert.Matches("^[0-9]{6}$", code.Code);
        Assert.Equal(Start + TimeSpan.FromMinutes(10), code.ExpiresAt);
        Assert.Same(code, service.CodeForDisplay());
        Assert.False(service.Status.Paired);
    }

    [Fact]
    public void Right_code_records_operator_label_and_time_in_lower_case()
    {
        var service = Create();
        var code = service.CodeForDisplay()!;
        _time.Advance(TimeSpan.FromMinutes(3));

        var outcome = service.TryPair(code.Code, Operator, "  Sunny Street  ");

        Assert.Equal(PairingResult.Paired, outcome.Result);
        Assert.Equal(new Status.PairingStatus(true, OperatorLower, "Sunny Street", Start + TimeSpan.FromMinutes(3)), service.Status);
        // The used code is gone, and a paired gateway does not show a new one unasked.
        Assert.Null(service.CodeForDisplay());
        Assert.Null(service.GetState().CodeExpiresAt);
    }

    [Fact]
    public void Wrong_code_is_refused_and_counts_down_the_attempts()
    {
        var service = Create();
        var code = service.CodeForDisplay()!;

        var outcome = service.TryPair(WrongCode(code.Code), Operator, null);

        Assert.Equal(new PairingOutcome(PairingResult.WrongCode, 4, null), outcome);
        Assert.False(service.Status.Paired);
        Assert.Equal(4, service.GetState().AttemptsLeft);
        // The code stays valid after one wrong guess.
        Assert.Equal(PairingResult.Paired, service.TryPair(code.Code, Operator, null).Result);
    }

    [Theory]
    [InlineData("12345")]
    [InlineData("1234567")]
    [InlineData("12345a")]
    [InlineData("")]
    [InlineData(null)]
    public void Malformed_code_counts_as_a_wrong_attempt(string? given)
    {
        var service = Create();
        service.CodeForDisplay();

        var outcome = service.TryPair(given, Operator, null);

        Assert.Equal(PairingResult.WrongCode, outcome.Result);
        Assert.Equal(4, outcome.AttemptsLeft);
    }

    [Fact]
    public void Code_that_looks_like_digits_in_another_script_does_not_match()
    {
        var service = Create();
        var code = service.CodeForDisplay()!;
        // U+0130.. chars whose low byte equals an ASCII digit must not pass a byte-wise comparison.
        var lookalike = new string(code.Code.Select(c => (char)(0x0100 + c)).ToArray());

        Assert.Equal(PairingResult.WrongCode, service.TryPair(lookalike, Operator, null).Result);
    }

    [Fact]
    public void Expired_code_is_not_accepted_and_a_fresh_one_is_shown()
    {
        var service = Create();
        var code = service.CodeForDisplay()!;
        _time.Advance(TimeSpan.FromMinutes(10));

        var outcome = service.TryPair(code.Code, Operator, null);

        Assert.Equal(PairingResult.NoActiveCode, outcome.Result);
        var fresh = service.CodeForDisplay();
        Assert.NotNull(fresh);
        Assert.Equal(Start + TimeSpan.FromMinutes(20), fresh.ExpiresAt);
    }

    [Fact]
    public void Code_is_accepted_just_before_expiry()
    {
        var service = Create();
        var code = service.CodeForDisplay()!;
        _time.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));

        Assert.Equal(PairingResult.Paired, service.TryPair(code.Code, Operator, null).Result);
    }

    [Fact]
    public void Five_wrong_codes_lock_pairing_even_for_the_right_code()
    {
        var service = Create();
        var code = service.CodeForDisplay()!;
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(PairingResult.WrongCode, service.TryPair(WrongCode(code.Code), Operator, null).Result);
        }

        var fifth = service.TryPair(WrongCode(code.Code), Operator, null);

        Assert.Equal(new PairingOutcome(PairingResult.LockedOut, 0, Start + TimeSpan.FromMinutes(15)), fifth);
        Assert.Equal(PairingResult.LockedOut, service.TryPair(code.Code, Operator, null).Result);
        Assert.Null(service.CodeForDisplay());
        Assert.Null(service.RequestCode());
        Assert.Equal(Start + TimeSpan.FromMinutes(15), service.GetState().LockedUntil);
        Assert.False(service.Status.Paired);
    }

    [Fact]
    public void Lockout_ends_with_a_new_code_and_full_attempts()
    {
        var service = Create();
        var old = service.CodeForDisplay()!;
        for (int i = 0; i < 5; i++)
        {
            service.TryPair(WrongCode(old.Code), Operator, null);
        }

        _time.Advance(TimeSpan.FromMinutes(15));
        var fresh = service.CodeForDisplay();

        Assert.NotNull(fresh);
        Assert.Equal(Start + TimeSpan.FromMinutes(25), fresh.ExpiresAt);
        Assert.Null(service.GetState().LockedUntil);
        Assert.Equal(5, service.GetState().AttemptsLeft);
        Assert.Equal(PairingResult.Paired, service.TryPair(fresh.Code, Operator, null).Result);
    }

    [Theory]
    [InlineData("0xabcdef0123456789abcdef0123456789abcdef0")]
    [InlineData("abcdef0123456789abcdef0123456789abcdef0123")]
    [InlineData("0xabcdef0123456789abcdef0123456789abcdef0g")]
    [InlineData("0x0000000000000000000000000000000000000000")]
    [InlineData(null)]
    public void Invalid_operator_address_is_refused_without_using_an_attempt(string? address)
    {
        var service = Create();
        var code = service.CodeForDisplay()!;

        var outcome = service.TryPair(code.Code, address, null);

        Assert.Equal(PairingResult.InvalidOperatorAddress, outcome.Result);
        Assert.Equal(5, service.GetState().AttemptsLeft);
        Assert.False(service.Status.Paired);
    }

    [Fact]
    public void Label_with_control_characters_or_too_long_is_refused()
    {
        var service = Create();
        var code = service.CodeForDisplay()!;

        Assert.Equal(PairingResult.InvalidLabel, service.TryPair(code.Code, Operator, "a\nb").Result);
        Assert.Equal(PairingResult.InvalidLabel, service.TryPair(code.Code, Operator, new string('x', 65)).Result);
        Assert.Equal(PairingResult.Paired, service.TryPair(code.Code, Operator, new string('x', 64)).Result);
    }

    [Fact]
    public void Pairing_survives_a_restart()
    {
        var first = Create();
        first.TryPair(first.CodeForDisplay()!.Code, Operator, "Sunny Street");

        var second = Create();

        Assert.Equal(new Status.PairingStatus(true, OperatorLower, "Sunny Street", Start), second.Status);
        Assert.Null(second.CodeForDisplay());
        Assert.False(File.Exists(Path.Combine(_dir, FilePairingService.FileName + ".tmp")));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, FilePairingService.FileName)));
        Assert.Equal(OperatorLower, doc.RootElement.GetProperty("operatorAddress").GetString());
        Assert.Equal("Sunny Street", doc.RootElement.GetProperty("label").GetString());
        Assert.Equal(Start, doc.RootElement.GetProperty("pairedAt").GetDateTimeOffset());
    }

    [Fact]
    public void Re_pairing_needs_a_request_and_a_button_press_and_replaces_the_operator()
    {
        var service = Create();
        service.TryPair(service.CodeForDisplay()!.Code, Operator, "old");
        const string second = "0x1111111111111111111111111111111111111111";

        Assert.Equal(PairingResult.NoActiveCode, service.TryPair("123456", second, "new").Result);
        Assert.Null(service.RequestCode());
        Assert.True(service.AwaitingPresence);
        Assert.True(service.GetState().AwaitingPresence);
        Assert.Null(service.CodeForDisplay());

        service.ConfirmPresence();

        var code = service.CodeForDisplay()!;
        Assert.False(service.AwaitingPresence);
        Assert.Equal(Start + TimeSpan.FromMinutes(10), code.ExpiresAt);
        Assert.Equal(code.ExpiresAt, service.RequestCode());
        Assert.Same(code, service.CodeForDisplay());
        Assert.Equal(PairingResult.Paired, service.TryPair(code.Code, second, "new").Result);
        Assert.Equal(second, Create().Status.OperatorAddress);
    }

    [Fact]
    public void Paired_gateway_opens_no_window_on_requests_alone()
    {
        var service = Create();
        service.TryPair(service.CodeForDisplay()!.Code, Operator, null);

        for (int i = 0; i < 20; i++)
        {
            Assert.Null(service.RequestCode());
        }

        Assert.Null(service.CodeForDisplay());
        Assert.Null(service.GetState().CodeExpiresAt);
    }

    [Fact]
    public void Button_press_without_a_request_opens_nothing_and_a_request_expires()
    {
        var service = Create();
        service.TryPair(service.CodeForDisplay()!.Code, Operator, null);

        service.ConfirmPresence();
        Assert.Null(service.CodeForDisplay());

        service.RequestCode();
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.False(service.AwaitingPresence);
        service.ConfirmPresence();
        Assert.Null(service.CodeForDisplay());
    }

    [Fact]
    public void Each_lockout_doubles_and_survives_a_restart()
    {
        var service = Create();
        var expected = new[] { 15, 30, 60, 120 };
        var at = Start;
        foreach (var minutes in expected)
        {
            var code = service.CodeForDisplay()!;
            PairingOutcome last = default;
            for (int i = 0; i < 5; i++)
            {
                last = service.TryPair(WrongCode(code.Code), Operator, null);
            }

            Assert.Equal(new PairingOutcome(PairingResult.LockedOut, 0, at + TimeSpan.FromMinutes(minutes)), last);

            // A restart (power cut) keeps the lockout and its count.
            service = Create();
            Assert.Equal(at + TimeSpan.FromMinutes(minutes), service.GetState().LockedUntil);
            Assert.Equal(PairingResult.LockedOut, service.TryPair(code.Code, Operator, null).Result);
            _time.Advance(TimeSpan.FromMinutes(minutes));
            at += TimeSpan.FromMinutes(minutes);
        }

        // A successful pairing resets the doubling.
        Assert.Equal(PairingResult.Paired, service.TryPair(service.CodeForDisplay()!.Code, Operator, null).Result);
        service.RequestCode();
        service.ConfirmPresence();
        var fresh = service.CodeForDisplay()!;
        PairingOutcome locked = default;
        for (int i = 0; i < 5; i++)
        {
            locked = service.TryPair(WrongCode(fresh.Code), Operator, null);
        }

        Assert.Equal(at + TimeSpan.FromMinutes(15), locked.LockedUntil);
    }

    [Fact]
    public void Wrong_codes_count_across_a_restart()
    {
        var service = Create();
        var code = service.CodeForDisplay()!;
        service.TryPair(WrongCode(code.Code), Operator, null);
        service.TryPair(WrongCode(code.Code), Operator, null);

        var restarted = Create();

        Assert.Equal(3, restarted.GetState().AttemptsLeft);
    }

    [Fact]
    public void Without_an_lcd_each_code_goes_to_the_log_once()
    {
        var log = new Support.ListLogger<FilePairingService>();
        var service = new FilePairingService(_dir, _time, log) { LogCodes = true };

        var code = service.CodeForDisplay()!;
        service.CodeForDisplay();

        var lines = log.Lines.Where(l => l.Contains("pairing code: ", StringComparison.Ordinal)).ToList();
        Assert.Single(lines);
        Assert.Contains($"pairing code: {code.Code} ", lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void With_an_lcd_no_code_is_logged()
    {
        var log = new Support.ListLogger<FilePairingService>();
        var service = new FilePairingService(_dir, _time, log);

        var code = service.CodeForDisplay()!;

        Assert.DoesNotContain(log.Lines, l => l.Contains(code.Code, StringComparison.Ordinal));
    }

    [Fact]
    public void Unreadable_file_leaves_the_gateway_unpaired()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, FilePairingService.FileName), "{ not json");

        var service = Create();

        Assert.False(service.Status.Paired);
        Assert.NotNull(service.CodeForDisplay());
    }

    [Fact]
    public void State_for_the_page_never_contains_the_code()
    {
        var service = Create();
        var code = service.CodeForDisplay()!;

        var state = service.GetState();

        Assert.Equal(new PairingState(false, null, null, null, code.ExpiresAt, null, 5), state);
        Assert.DoesNotContain(code.Code, state.ToString(), StringComparison.Ordinal);
    }
}
