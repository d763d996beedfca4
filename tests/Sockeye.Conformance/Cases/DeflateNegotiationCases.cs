using Sockeye.Conformance.Deflate;
using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Cases;

/// <summary>
/// 13.9.x, a Sockeye addition: permessage-deflate negotiation edge cases (RFC 7692 5 and 7). Each case has two halves.
/// Client role (testing a server): an offer the server must decline while still upgrading, or a mix in which it must
/// skip what it cannot accept. Server role (testing a client): an answer the client must reject by failing the
/// connection, or a legal but unusual one it should accept. Where the RFC leaves the choice open the case is
/// INFORMATIONAL, where it does not the case is strict.
/// </summary>
internal static class DeflateNegotiationCases
{
    private const int EchoCount = 5;
    private const int EchoSize = 4096;
    private const string Probe = "Hello, permessage-deflate";

    private enum ClientExpectation
    {
        /// <summary>Every permessage-deflate offer is invalid: the server MUST decline them (RFC 7692 7) and upgrade without.</summary>
        Decline,

        /// <summary>A valid offer follows invalid ones or unknown extensions: the server should accept it.</summary>
        Accept,

        /// <summary>A legal offer a server may well decline: accepting (correctly) is OK, declining INFORMATIONAL.</summary>
        AcceptOrDecline,
    }

    private enum ServerExpectation
    {
        /// <summary>The answer is invalid: the client MUST fail the connection (RFC 7692 5, RFC 6455 4.1).</summary>
        MustFail,

        /// <summary>The answer is legal: the client should go on (failing is INFORMATIONAL) and then must decode correctly.</summary>
        ShouldAccept,

        /// <summary>The answer does not accept what the client asked for, but the RFC does not say the client MUST fail: failing is OK, going on (correctly) INFORMATIONAL.</summary>
        ShouldFail,
    }

    public static IEnumerable<ConformanceCase> All()
    {
        yield return Case(
            "13.9.1",
            new ClientHalf(ClientExpectation.Decline, ["permessage-deflate; server_no_context_takeover; server_no_context_takeover"], "a repeated parameter"),
            ServerHalf.Fixed(ServerExpectation.MustFail, "permessage-deflate; server_no_context_takeover; server_no_context_takeover", "a repeated parameter"));
        yield return Case(
            "13.9.2",
            new ClientHalf(ClientExpectation.Decline, ["permessage-deflate; unknown_parameter=1"], "an unknown parameter"),
            ServerHalf.Fixed(ServerExpectation.MustFail, "permessage-deflate; unknown_parameter=1", "an unknown parameter"));
        yield return Case(
            "13.9.3",
            new ClientHalf(ClientExpectation.Decline, ["permessage-deflate; server_max_window_bits=7"], "server_max_window_bits below 8"),
            ServerHalf.Fixed(ServerExpectation.MustFail, "permessage-deflate; server_max_window_bits=7", "server_max_window_bits below 8"));
        yield return Case(
            "13.9.4",
            new ClientHalf(ClientExpectation.Decline, ["permessage-deflate; server_max_window_bits=16"], "server_max_window_bits above 15"),
            ServerHalf.Fixed(ServerExpectation.MustFail, "permessage-deflate; server_max_window_bits=16", "server_max_window_bits above 15"));
        yield return Case(
            "13.9.5",
            new ClientHalf(ClientExpectation.Decline, ["permessage-deflate; server_max_window_bits=010"], "a window size with a leading zero"),
            ServerHalf.Fixed(ServerExpectation.MustFail, "permessage-deflate; server_max_window_bits=010", "a window size with a leading zero"));
        yield return Case(
            "13.9.6",
            new ClientHalf(ClientExpectation.Decline, ["permessage-deflate; server_no_context_takeover=1"], "a value on server_no_context_takeover, which has none"),
            ServerHalf.Fixed(ServerExpectation.MustFail, "permessage-deflate; server_no_context_takeover=1", "a value on server_no_context_takeover, which has none"));

        // RFC 6455 9.1: a quoted-string value is the same token once unquoted, so "10" means 10.
        yield return Case(
            "13.9.7",
            new ClientHalf(ClientExpectation.AcceptOrDecline, ["permessage-deflate; server_max_window_bits=\"10\""], "a quoted window size (legal per RFC 6455 9.1)"),
            ServerHalf.Fixed(ServerExpectation.ShouldAccept, "permessage-deflate; server_max_window_bits=\"10\"", "a quoted window size (legal per RFC 6455 9.1)"));

        // RFC 7692 allows 8, which zlib cannot compress with: a peer may decline, but if it goes on it must keep to 256 bytes.
        yield return Case(
            "13.9.8",
            new ClientHalf(ClientExpectation.AcceptOrDecline, ["permessage-deflate; client_max_window_bits=8"], "an 8-bit client window (we then compress with a 256-byte window)"),
            new ServerHalf(ServerExpectation.ShouldAccept, DeflateSetup.DefaultPeerOffer, o => o.ClientMaxWindowBits ? "permessage-deflate; client_max_window_bits=8" : null, "client_max_window_bits=8 (the client must then keep to a 256-byte window)", "an offer with client_max_window_bits"));

        yield return Case(
            "13.9.9",
            new ClientHalf(ClientExpectation.Decline, ["permessage-deflate; server_max_window_bits"], "server_max_window_bits without a value"),
            ServerHalf.Fixed(ServerExpectation.MustFail, "permessage-deflate; client_max_window_bits", "client_max_window_bits without a value, which a response must have (RFC 7692 7.1.2.2)"));
        yield return Case(
            "13.9.10",
            new ClientHalf(ClientExpectation.Accept, ["x-unknown-extension; level=1, permessage-deflate; client_max_window_bits"], "an unknown extension before permessage-deflate"),
            ServerHalf.Fixed(ServerExpectation.MustFail, "x-unknown-extension", "an extension the client did not offer (RFC 6455 4.1)", needsDeflateOffer: false));
        yield return Case(
            "13.9.11",
            new ClientHalf(ClientExpectation.Accept, ["permessage-deflate; server_max_window_bits=16, permessage-deflate; client_max_window_bits"], "an invalid offer, then a valid one in the same header"),
            new ServerHalf(ServerExpectation.MustFail, "client_no_context_takeover", o => o.ClientMaxWindowBits ? null : "permessage-deflate; client_max_window_bits=10", "client_max_window_bits though the offer had none (RFC 7692 7.1.2.2)", "an offer without client_max_window_bits"));
        yield return Case(
            "13.9.12",
            new ClientHalf(ClientExpectation.Accept, ["permessage-deflate; unknown_parameter=1", "permessage-deflate; client_max_window_bits"], "an invalid offer, then a valid one on a second header line"),
            ServerHalf.Fixed(ServerExpectation.MustFail, "permessage-deflate, permessage-deflate", "permessage-deflate accepted twice (RFC 7692 5: one PMCE at most)"));
        yield return Case(
            "13.9.13",
            new ClientHalf(ClientExpectation.Decline, ["permessage-deflate; client_max_window_bits=09"], "a client window size with a leading zero"),
            new ServerHalf(ServerExpectation.MustFail, "client_max_window_bits; server_max_window_bits=10", o => o.ServerMaxWindowBits is <= 13 and { } s ? $"permessage-deflate; server_max_window_bits={s + 2}" : null, "server_max_window_bits larger than offered (RFC 7692 7.1.2.1)", "an offer with server_max_window_bits of at most 13"));
        yield return Case(
            "13.9.14",
            new ClientHalf(ClientExpectation.Decline, ["permessage-deflate; client_no_context_takeover; client_no_context_takeover"], "a repeated client parameter"),
            new ServerHalf(ServerExpectation.ShouldFail, "client_max_window_bits; server_max_window_bits=10", o => o.ServerMaxWindowBits is null ? null : "permessage-deflate", "no server_max_window_bits though the client asked for one; our messages then use a 15-bit window (RFC 7692 7.1.2.1)", "an offer with server_max_window_bits"));
        yield return Case(
            "13.9.15",
            new ClientHalf(ClientExpectation.Decline, ["permessage-deflate; server_max_window_bits=\"\""], "an empty quoted value"),
            new ServerHalf(ServerExpectation.ShouldFail, "client_max_window_bits; server_no_context_takeover", o => o.ServerNoContextTakeover ? "permessage-deflate" : null, "no server_no_context_takeover though the client asked for it; our messages then use context takeover (RFC 7692 7.1.1.1)", "an offer with server_no_context_takeover"));
    }

    private static ConformanceCase Case(string id, ClientHalf client, ServerHalf server)
    {
        var clientText = client.Expectation switch
        {
            ClientExpectation.Decline => "the server MUST decline it and still upgrade (RFC 7692 7); a plain message must then be echoed",
            ClientExpectation.Accept => "the server should accept the valid permessage-deflate offer and nothing else",
            _ => "the server may decline; if it accepts, compressed echoes must work",
        };
        var serverText = server.Expectation switch
        {
            ServerExpectation.MustFail => "the client MUST fail the connection (RFC 7692 5)",
            ServerExpectation.ShouldAccept => "the client may fail (informational); if it goes on, compressed echoes must work",
            _ => "failing the connection is OK; going on (with working echoes) informational",
        };
        var description = $"Client role: offer {client.What}, \"{string.Join("\" + \"", client.Offers)}\"; {clientText}. Server role: answer {server.What}; {serverText}.";
        return new ConformanceCase(id, description, ctx => ctx.Role == Role.Client ? JudgeServerUnderTestAsync(ctx, client) : JudgeClientUnderTestAsync(ctx, server))
        {
            Deflate = new DeflateSetup { Offers = client.Offers, PeerOffer = server.PeerOffer, Answer = server.AnswerTo },
        };
    }

    /// <summary>Client role: we offered; the server's answer is in <see cref="CaseContext.Negotiation"/>.</summary>
    private static async Task<Verdict> JudgeServerUnderTestAsync(CaseContext ctx, ClientHalf half)
    {
        var negotiation = ctx.Negotiation ?? new Negotiation();
        if (negotiation.Problem is { } problem)
        {
            return Verdict.Failed($"{negotiation.Describe()}: {problem}");
        }

        if (negotiation.Agreement is null)
        {
            if (negotiation.Answered is not null)
            {
                return Verdict.Failed($"{negotiation.Describe()}: an answer that is neither a decline nor an acceptance");
            }

            var declined = half.Expectation switch
            {
                ClientExpectation.Decline => Verdict.Ok($"declined {half.What}"),
                ClientExpectation.Accept when ctx.DeflateExpectations.Required => Verdict.Failed($"declined every offer of \"{negotiation.Offered}\", though one is valid (--require-deflate)"),
                _ => Verdict.Informational($"declined \"{negotiation.Offered}\"; the RFC lets a server decline any offer"),
            };

            // Declining is not refusing: the connection must work, without compression.
            await ctx.SendAsync(OutFrame.Text(Probe));
            return Verdict.Combine(declined, await Judge.ExpectThenCloseAsync(ctx, ExpectedEvent.Text(Probe)));
        }

        if (half.Expectation == ClientExpectation.Decline)
        {
            return Verdict.Failed($"{negotiation.Describe()}: accepted though every permessage-deflate offer is invalid (RFC 7692 7: MUST decline)");
        }

        var echoed = await DeflateCases.EchoBatchAsync(ctx, PayloadKind.Json, EchoSize, EchoCount);
        var accepted = Verdict.Ok($"accepted offer {negotiation.AcceptedOffer} with \"{negotiation.Answered}\"");
        return echoed.Result == CaseResult.Failed ? Verdict.Combine(accepted, echoed) : Verdict.Combine(accepted, echoed, await Judge.CloseAsync(ctx));
    }

    /// <summary>Server role: we answered the echo client's offer; see whether it went on.</summary>
    private static async Task<Verdict> JudgeClientUnderTestAsync(CaseContext ctx, ServerHalf half)
    {
        var negotiation = ctx.Negotiation ?? new Negotiation();
        if (negotiation.NotApplicable is { } notApplicable)
        {
            // Only a client that offers no permessage-deflate at all fails under --require-deflate; one whose offer
            // lacks (or has) the parameter this answer is about makes the case inapplicable, not wrong.
            var offeredDeflate = Negotiation.ParseOffers(negotiation.Offered).Any(o => o.Params is not null);
            var grade = ctx.DeflateExpectations.Required && !offeredDeflate
                ? Verdict.Failed($"{notApplicable} (--require-deflate)")
                : Verdict.Informational($"not applicable: {notApplicable}");
            return Verdict.Combine(grade, await Judge.CloseAsync(ctx));
        }

        var answer = $"our answer \"{negotiation.Answered}\" to \"{negotiation.Offered}\"";
        if (negotiation.Agreement is null)
        {
            // MustFail: we speak plainly; an echo (compressed or not) shows the client went on.
            await ctx.SendAsync(OutFrame.Text(Probe));
            var got = await ctx.NextAsync(ctx.Timeouts.Fail);
            return got switch
            {
                DisconnectedEvent => Verdict.Ok($"the client failed the connection on {answer}"),
                CloseEvent close => Verdict.Combine(Verdict.Ok($"the client failed the connection with Close {close.Code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(no code)"} on {answer}"), await AnswerCloseAsync(ctx, close)),
                null => Verdict.Failed($"the client neither failed the connection nor echoed within {ctx.Timeouts.Fail.TotalSeconds:0.#} s of {answer}, which it MUST reject: {half.What}"),
                ViolationEvent violation => Verdict.Failed($"the client went on with the connection after {answer}, which it MUST reject ({half.What}), and sent {violation.Reason}"),
                _ => Verdict.Failed($"the client went on with the connection after {answer}, which it MUST reject ({half.What}): it sent a {got}"),
            };
        }

        // A legal (or tolerable) answer: compressed echoes, unless the client fails the connection first.
        var payload = new DeflatePayloads(PayloadKind.Json).Next(EchoSize);
        await ctx.SendCompressedAsync(Opcodes.Text, payload);
        var first = await ctx.NextAsync(ctx.Timeouts.Reply);
        if (first is DisconnectedEvent or CloseEvent)
        {
            var closing = first is CloseEvent close ? await AnswerCloseAsync(ctx, close) : Verdict.Ok("");
            return half.Expectation == ServerExpectation.ShouldFail
                ? Verdict.Combine(Verdict.Ok($"the client failed the connection on {answer}"), closing)
                : Verdict.Informational($"the client failed the connection on {answer}, which is legal ({half.What}); a client may refuse what it does not support");
        }

        if (first is not MessageEvent message || message.Binary || !message.Payload.AsSpan().SequenceEqual(payload))
        {
            return Verdict.Failed($"after {answer}: expected the echo of our compressed message, got {DeflateCases.Describe(first, payload)}");
        }

        var echoed = await DeflateCases.EchoBatchAsync(ctx, PayloadKind.Json, EchoSize, EchoCount);
        if (echoed.Result == CaseResult.Failed)
        {
            return Verdict.Combine(Verdict.Failed($"the client went on after {answer}"), echoed);
        }

        var went = half.Expectation == ServerExpectation.ShouldFail
            ? Verdict.Informational($"the client went on after {answer} ({half.What}) and decoded correctly; the RFC does not require it to fail")
            : Verdict.Ok($"the client accepted {answer}");
        return Verdict.Combine(went, echoed, await Judge.CloseAsync(ctx));
    }

    /// <summary>RFC 6455 5.5.1: answer the peer's Close, then the TCP close (we are the server).</summary>
    private static async Task<Verdict> AnswerCloseAsync(CaseContext ctx, CloseEvent close)
    {
        await ctx.SendAsync(close.Code is { } code ? OutFrame.Close(code) : OutFrame.CloseRaw(ReadOnlyMemory<byte>.Empty));
        return await Judge.AwaitTransportCloseAsync(ctx);
    }

    private sealed record ClientHalf(ClientExpectation Expectation, IReadOnlyList<string> Offers, string What);

    /// <summary>
    /// Our answer as a function of the client's first valid permessage-deflate offer; null when that offer does not allow
    /// the case (<paramref name="Needs"/> says what it must contain). <paramref name="PeerOffer"/> is what {offer} asks for.
    /// </summary>
    private sealed record ServerHalf(ServerExpectation Expectation, string PeerOffer, Func<DeflateParams, string?> Answer, string What, string Needs, bool NeedsDeflateOffer = true)
    {
        public static ServerHalf Fixed(ServerExpectation expectation, string answer, string what, bool needsDeflateOffer = true) =>
            new(expectation, DeflateSetup.DefaultPeerOffer, _ => answer, what, "a permessage-deflate offer", needsDeflateOffer);

        public ServerAnswer AnswerTo(string? offered)
        {
            var offer = Negotiation.ParseOffers(offered).FirstOrDefault(o => o.Params is not null)?.Params;
            if (offer is null && NeedsDeflateOffer)
            {
                return new ServerAnswer(null, null, $"the client made no valid permessage-deflate offer (\"{offered ?? "(nothing)"}\")");
            }

            var header = Answer(offer ?? DeflateParams.Default);
            if (header is null)
            {
                return new ServerAnswer(null, null, $"the client's offer \"{offered}\" does not fit this case, which needs {Needs}");
            }

            if (Expectation == ServerExpectation.MustFail)
            {
                return new ServerAnswer(header, null);
            }

            // A legal answer: what both sides then use follows from it and the offer (RFC 7692 7.1).
            var response = DeflateParams.ParseResponse(ExtensionHeader.Parse(header)[0]).Params!;
            return new ServerAnswer(header, DeflateAgreement.From(offer!, response));
        }
    }
}
