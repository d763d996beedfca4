using Sockeye.Protocol;

namespace Sockeye.Tests.Extensions;

public class ExtensionHeaderTests
{
    [Fact]
    public void Parses_offers_in_one_line_and_across_lines_in_order()
    {
        List<ExtensionOffer> offers = ExtensionHeader.Parse(["permessage-deflate; client_max_window_bits, foo", "permessage-deflate; server_max_window_bits=10"]);

        Assert.Equal(["permessage-deflate", "foo", "permessage-deflate"], offers.Select(o => o.Name));
        Assert.All(offers, o => Assert.True(o.IsValid));
        Assert.Equal(new KeyValuePair<string, string?>("client_max_window_bits", null), Assert.Single(offers[0].Parameters));
        Assert.Equal(new KeyValuePair<string, string?>("server_max_window_bits", "10"), Assert.Single(offers[2].Parameters));
    }

    [Fact]
    public void Unquotes_quoted_values_and_keeps_commas_inside_quotes_together()
    {
        List<ExtensionOffer> offers = ExtensionHeader.Parse(["x; a=\"1,2\", permessage-deflate; server_max_window_bits=\"10\""]);

        Assert.Equal(2, offers.Count);
        Assert.False(offers[0].IsValid); // "1,2" is not a token once unquoted (RFC 6455 §9.1)
        Assert.True(offers[1].IsValid);
        Assert.Equal("10", offers[1].Parameters[0].Value);
    }

    [Theory]
    [InlineData("permessage-deflate; ")]
    [InlineData("permessage deflate")]
    [InlineData("permessage-deflate; a=b=c")]
    [InlineData("permessage-deflate; a=\"b")]
    [InlineData("permessage-deflate; =1")]
    public void Marks_elements_that_break_the_grammar_invalid(string value)
    {
        Assert.False(Assert.Single(ExtensionHeader.Parse([value])).IsValid);
    }

    [Fact]
    public void Ignores_empty_list_elements()
    {
        Assert.Single(ExtensionHeader.Parse([" , permessage-deflate ,, "]));
    }
}
