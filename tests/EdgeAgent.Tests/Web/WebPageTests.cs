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
}
