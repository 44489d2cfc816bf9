using EdgeMeter.Agent.Web;
using Xunit;

namespace EdgeMeter.Agent.Tests.Web;

public sealed class WebPageTests
{
    [Theory]
    [InlineData(null, "en")]
    [InlineData("", "en")]
    [InlineData("zh-CN,zh;q=0.9,en;q=0.8", "zh")]
    [InlineData("zh", "zh")]
    [InlineData("en-US,en;q=0.9,zh-CN;q=0.8", "en")]
    [InlineData("de-DE,zh-TW;q=0.5", "zh")]
    [InlineData("zh-CN;q=0", "en")]
    [InlineData("fr", "en")]
    public void Language_comes_from_accept_language(string? header, string expected)
    {
        Assert.Equal(expected, WebPage.PickLanguage(header));
    }

    [Fact]
    public void Both_languages_are_the_same_page_with_their_lang_so_one_script_hash_covers_them()
    {
        var en = System.Text.Encoding.UTF8.GetString(WebPage.Html("en"));
        var zh = System.Text.Encoding.UTF8.GetString(WebPage.Html("zh"));

        Assert.Contains("<html lang=\"en\">", en, StringComparison.Ordinal);
        Assert.Contains("<html lang=\"zh-CN\">", zh, StringComparison.Ordinal);
        Assert.Equal(en.Replace("<html lang=\"en\">", "", StringComparison.Ordinal), zh.Replace("<html lang=\"zh-CN\">", "", StringComparison.Ordinal));
        Assert.DoesNotContain("style=\"", en, StringComparison.Ordinal); // inline style attributes would need 'unsafe-inline'
    }

    /// <summary>
    /// Every refusal code the server can send (configuration rules, test reads and connection tests, the API's own
    /// refusals) has its Chinese sentence in the page's table; a new code without one fails here, not on a reader's phone.
    /// </summary>
    [Fact]
    public void Every_refusal_code_the_server_sends_has_a_chinese_sentence()
    {
        var src = Path.Combine(RepoRoot(), "src", "EdgeAgent");
        var page = System.Text.Encoding.UTF8.GetString(WebPage.Html("zh"));
        var zh = page[page.IndexOf("zh: {", StringComparison.Ordinal)..];
        static IEnumerable<string> Codes(string text, string pattern) =>
            System.Text.RegularExpressions.Regex.Matches(text, pattern).Select(m => m.Groups[1].Value);

        var setup = File.ReadAllText(Path.Combine(src, "Setup", "SetupService.cs"));
        var rules = File.ReadAllText(Path.Combine(src, "Configuration", "ConfigErrorCodes.cs"));
        var web = string.Concat(Directory.GetFiles(Path.Combine(src, "Web"), "*.cs").Select(File.ReadAllText));
        var testCodes = Codes(setup, @"TestReadResult\.Failed\(""([a-z_]+)""").Concat(Codes(rules, @"return \(""([a-z_]+)"",")).Append("failed").Distinct().ToList();
        var apiCodes = Codes(web, @"HttpStatusCode\.\w+,\s*""([a-z_]+)""").Distinct().ToList();

        Assert.True(testCodes.Count >= 25, string.Join(", ", testCodes));
        Assert.True(apiCodes.Count >= 12, string.Join(", ", apiCodes));
        var missing = testCodes.Where(c => !zh.Contains($"\"e-{c}\": \"", StringComparison.Ordinal))
            .Concat(apiCodes.Where(c => !zh.Contains($"\"r-{c}\": \"", StringComparison.Ordinal))).ToList();
        Assert.True(missing.Count == 0, "no Chinese sentence for: " + string.Join(", ", missing));
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeMeter.sln")))
                return dir.FullName;
        }

        throw new DirectoryNotFoundException("EdgeMeter.sln not found above " + AppContext.BaseDirectory);
    }
}
