using Sockeye.Extensions;
using Sockeye.Protocol;

namespace Sockeye.Tests.Extensions;

/// <summary>RFC 7692 §5 and §7.1: the server's choice among offers and the client's check of the answer.</summary>
public class NegotiationTests
{
    private static PerMessageDeflateParameters? Accept(string header, PerMessageDeflateOptions? options = null) =>
        PerMessageDeflateNegotiation.Accept(ExtensionHeader.Parse([header]), options ?? new PerMessageDeflateOptions());

    [Theory]
    [InlineData("permessage-deflate", "permessage-deflate")]
    [InlineData("permessage-deflate; client_max_window_bits", "permessage-deflate")]
    [InlineData("permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover")]
    [InlineData("permessage-deflate; client_no_context_takeover", "permessage-deflate; client_no_context_takeover")]
    [InlineData("permessage-deflate; server_max_window_bits=8", "permessage-deflate; server_max_window_bits=8")]
    [InlineData("permessage-deflate; server_max_window_bits=\"12\"", "permessage-deflate; server_max_window_bits=12")]
    [InlineData("permessage-deflate; client_max_window_bits=9", "permessage-deflate; client_max_window_bits=9")]
    [InlineData("PerMessage-Deflate; Client_No_Context_Takeover", "permessage-deflate; client_no_context_takeover")]
    public void Server_answers_each_parameter(string offer, string expected)
    {
        Assert.Equal(expected, Accept(offer)?.Header);
    }

    [Fact]
    public void Server_agrees_to_all_four_parameters_at_once()
    {
        PerMessageDeflateParameters? p = Accept("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11");

        Assert.NotNull(p);
        Assert.True(p.ServerNoContextTakeover);
        Assert.True(p.ClientNoContextTakeover);
        Assert.Equal(10, p.ServerMaxWindowBits);
        Assert.Equal(11, p.ClientMaxWindowBits);
    }

    [Theory]
    [InlineData("permessage-deflate; server_max_window_bits")]          // needs a value
    [InlineData("permessage-deflate; server_max_window_bits=7")]
    [InlineData("permessage-deflate; server_max_window_bits=16")]
    [InlineData("permessage-deflate; server_max_window_bits=010")]      // no leading zeros
    [InlineData("permessage-deflate; client_max_window_bits=0x9")]
    [InlineData("permessage-deflate; server_no_context_takeover=1")]    // no value allowed
    [InlineData("permessage-deflate; client_no_context_takeover; client_no_context_takeover")]
    [InlineData("permessage-deflate; foo")]
    [InlineData("permessage-deflate; a=\"b")]
    [InlineData("x-webkit-deflate-frame")]
    public void Server_declines_an_invalid_offer_instead_of_failing(string offer)
    {
        Assert.Null(Accept(offer));
    }

    [Fact]
    public void Server_picks_the_first_offer_it_can_accept()
    {
        List<ExtensionOffer> offers = ExtensionHeader.Parse([
            "permessage-deflate; foo=1, permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; client_no_context_takeover, permessage-deflate",
        ]);

        Assert.Equal("permessage-deflate; client_no_context_takeover", PerMessageDeflateNegotiation.Accept(offers, new PerMessageDeflateOptions())?.Header);
    }

    [Fact]
    public void Server_settings_lower_its_window_and_ask_the_client_only_what_it_may()
    {
        var options = new PerMessageDeflateOptions { ServerMaxWindowBits = 10, ClientMaxWindowBits = 9, ServerNoContextTakeover = true };

        // Without client_max_window_bits in the offer the server may not limit the client's window (§7.1.2.2).
        Assert.Equal("permessage-deflate; server_no_context_takeover; server_max_window_bits=10", Accept("permessage-deflate", options)?.Header);
        Assert.Equal("permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9",
            Accept("permessage-deflate; client_max_window_bits", options)?.Header);
        // The server stays within a window the client asked for.
        Assert.Equal(8, Accept("permessage-deflate; server_max_window_bits=8", options)?.ServerMaxWindowBits);
    }

    [Fact]
    public void Client_offer_lists_what_its_options_ask_for()
    {
        Assert.Equal("permessage-deflate; client_max_window_bits", PerMessageDeflateNegotiation.Offer(new PerMessageDeflateOptions()));
        Assert.Equal("permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12",
            PerMessageDeflateNegotiation.Offer(new PerMessageDeflateOptions
            {
                ServerNoContextTakeover = true, ClientNoContextTakeover = true, ServerMaxWindowBits = 10, ClientMaxWindowBits = 12,
            }));
    }

    private static string? Validate(string? answer, PerMessageDeflateOptions? offered, out PerMessageDeflateParameters? agreed) =>
        PerMessageDeflateNegotiation.ValidateResponse(answer is null ? [] : ExtensionHeader.Parse([answer]), offered, out agreed);

    [Theory]
    [InlineData("permessage-deflate")]
    [InlineData("permessage-deflate; server_no_context_takeover")]
    [InlineData("permessage-deflate; client_no_context_takeover")]
    [InlineData("permessage-deflate; server_max_window_bits=9")]
    [InlineData("permessage-deflate; client_max_window_bits=8")]
    public void Client_accepts_valid_answers(string answer)
    {
        Assert.Null(Validate(answer, new PerMessageDeflateOptions(), out PerMessageDeflateParameters? agreed));
        Assert.NotNull(agreed);
    }

    [Theory]
    [InlineData("x-unknown")]
    [InlineData("permessage-deflate, permessage-deflate")]
    [InlineData("permessage-deflate; foo")]
    [InlineData("permessage-deflate; client_max_window_bits")]      // a response needs a value
    [InlineData("permessage-deflate; server_max_window_bits=16")]
    [InlineData("permessage-deflate; server_no_context_takeover; server_no_context_takeover")]
    public void Client_fails_invalid_answers(string answer)
    {
        Assert.NotNull(Validate(answer, new PerMessageDeflateOptions(), out _));
    }

    [Fact]
    public void Client_fails_an_extension_it_never_offered()
    {
        Assert.Contains("not offered", Validate("permessage-deflate", null, out _), StringComparison.Ordinal);
    }

    [Fact]
    public void Client_fails_an_answer_that_ignores_what_it_asked_of_the_server()
    {
        var offered = new PerMessageDeflateOptions { ServerNoContextTakeover = true, ServerMaxWindowBits = 10, ClientMaxWindowBits = 10 };

        Assert.NotNull(Validate("permessage-deflate; server_max_window_bits=10", offered, out _));                      // no server_no_context_takeover
        Assert.NotNull(Validate("permessage-deflate; server_no_context_takeover", offered, out _));                     // no server_max_window_bits
        Assert.NotNull(Validate("permessage-deflate; server_no_context_takeover; server_max_window_bits=11", offered, out _));
        Assert.NotNull(Validate("permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12", offered, out _));
        Assert.Null(Validate("permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9", offered, out var agreed));
        Assert.Equal((9, 9, true), (agreed!.ServerMaxWindowBits, agreed.ClientMaxWindowBits, agreed.ServerNoContextTakeover));
    }

    [Fact]
    public void Client_without_client_max_window_bits_in_its_offer_refuses_an_answer_that_sets_it()
    {
        var offered = new PerMessageDeflateOptions { OfferClientMaxWindowBits = false, ClientNoContextTakeover = true };

        Assert.Equal("permessage-deflate; client_no_context_takeover", PerMessageDeflateNegotiation.Offer(offered));
        Assert.Contains("not offered", Validate("permessage-deflate; client_max_window_bits=10", offered, out _), StringComparison.Ordinal);
        Assert.Null(Validate("permessage-deflate; client_no_context_takeover", offered, out _));
    }

    [Fact]
    public void Client_treats_no_answer_as_declined()
    {
        Assert.Null(Validate(null, new PerMessageDeflateOptions(), out PerMessageDeflateParameters? agreed));
        Assert.Null(agreed);
    }
}
