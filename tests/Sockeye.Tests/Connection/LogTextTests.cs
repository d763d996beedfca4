namespace Sockeye.Tests.Connection;

public class LogTextTests
{
    [Fact]
    public void Clean_text_is_returned_as_is()
    {
        const string text = "/index.html?q=héllo wörld";

        Assert.Same(text, LogText.Escape(text));
        Assert.Null(LogText.Escape(null));
    }

    [Theory]
    [InlineData("a\nb", "a\\x0ab")]
    [InlineData("\r\n", "\\x0d\\x0a")]
    [InlineData("\u001b[31mred", "\\x1b[31mred")]
    [InlineData("bell\u0007\u007f", "bell\\x07\\x7f")]
    [InlineData("c1\u0085", "c1\\x85")]
    [InlineData("line\u2028sep", "line\\u2028sep")]
    [InlineData("abc\u202Eevil", "abc\\u202eevil")] // bidi override: text that displays reversed
    [InlineData("tab\there", "tab\\x09here")]
    public void Control_characters_are_escaped(string text, string expected)
    {
        Assert.Equal(expected, LogText.Escape(text));
    }
}
