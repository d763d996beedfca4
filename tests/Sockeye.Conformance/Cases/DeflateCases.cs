using System.Diagnostics;
using Sockeye.Conformance.Deflate;
using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Cases;

/// <summary>
/// Autobahn groups 12 and 13: batches of compressed messages that must come back byte for byte under permessage-deflate
/// (RFC 7692), with the default offer (12.x, per kind of data) and under each parameter combination (13.x, JSON data).
/// As client we make the offer and check the server's answer; as server we answer the echo client's offer.
/// </summary>
internal static class DeflateCases
{
    /// <summary>Messages per case. Autobahn sends 1000; 100 keeps each role's run within a few minutes on 2 cores.</summary>
    public const int MessagesPerCase = 100;

    private static readonly int[] Sizes = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072];

    private static readonly PayloadKind[] Group12Kinds = [PayloadKind.Text, PayloadKind.Binary, PayloadKind.Json, PayloadKind.Random, PayloadKind.Records];

    private static readonly DeflateParams NoContext = new() { ClientNoContextTakeover = true };

    /// <summary>
    /// Group 13's parameter combinations: 13.1-13.7 as in Autobahn (with window 9 for its 8, which zlib cannot do),
    /// then 13.8 server_no_context_takeover and 13.10-13.17 server_max_window_bits = 8..15 (13.9 is the negotiation group).
    /// </summary>
    private static readonly (string Id, Variant Variant)[] Group13 =
    [
        ("13.1", new Variant("the default offer", ["permessage-deflate; client_max_window_bits"], [DeflateParams.Default])),
        ("13.2", new Variant("client_no_context_takeover", ["permessage-deflate; client_no_context_takeover"], [NoContext])),
        ("13.3", new Variant("client_max_window_bits=9", ["permessage-deflate; client_max_window_bits=9"], [Window(9)])),
        ("13.4", new Variant("client_max_window_bits=15", ["permessage-deflate; client_max_window_bits=15"], [Window(15)])),
        ("13.5", new Variant("client_no_context_takeover and client_max_window_bits=9", ["permessage-deflate; client_no_context_takeover; client_max_window_bits=9"], [Window(9) with { ClientNoContextTakeover = true }])),
        ("13.6", new Variant("client_no_context_takeover and client_max_window_bits=15", ["permessage-deflate; client_no_context_takeover; client_max_window_bits=15"], [Window(15) with { ClientNoContextTakeover = true }])),
        ("13.7", new Variant(
            "three offers in one header, the first acceptable one wins",
            ["permessage-deflate; client_no_context_takeover; client_max_window_bits=9; server_max_window_bits=10, permessage-deflate; client_no_context_takeover, permessage-deflate; client_max_window_bits"],
            [Window(9) with { ClientNoContextTakeover = true }, NoContext, DeflateParams.Default])),
        ("13.8", new Variant("server_no_context_takeover", ["permessage-deflate; client_max_window_bits; server_no_context_takeover"], [new DeflateParams { ServerNoContextTakeover = true }])),
        .. Enumerable.Range(8, 8).Select(bits => ($"13.{bits + 2}", new Variant(
            $"server_max_window_bits={bits}",
            [$"permessage-deflate; client_max_window_bits; server_max_window_bits={bits}"],
            [new DeflateParams { ServerMaxWindowBits = bits }]))),
    ];

    /// <summary>The default offer (client role) and a plain acceptance of it (server role), as in 12.x and 13.1.</summary>
    public static DeflateSetup DefaultSetup { get; } = Setup(Group13[0].Variant);

    public static IEnumerable<ConformanceCase> All()
    {
        var defaults = Group13[0].Variant;
        for (var k = 0; k < Group12Kinds.Length; k++)
        {
            for (var i = 0; i < Sizes.Length; i++)
            {
                yield return Echo($"12.{k + 1}.{i + 1}", defaults, Group12Kinds[k], Sizes[i]);
            }
        }

        foreach (var (id, variant) in Group13)
        {
            if (id == "13.10")
            {
                // Keep the catalog in id order: the negotiation cases are 13.9.x.
                foreach (var negotiation in DeflateNegotiationCases.All())
                {
                    yield return negotiation;
                }
            }

            for (var i = 0; i < Sizes.Length; i++)
            {
                yield return Echo($"{id}.{i + 1}", variant, PayloadKind.Json, Sizes[i]);
            }
        }

        foreach (var framing in DeflateFramingCases.All())
        {
            yield return framing;
        }
    }

    /// <summary>
    /// Sends <paramref name="count"/> compressed messages one at a time, each echoed byte for byte before the next; the
    /// echoes of at least the threshold should be compressed (RFC 7692 allows plain ones, so that is NON-STRICT).
    /// Returns the failure, or the OK/NON-STRICT summary (without closing).
    /// </summary>
    public static async Task<Verdict> EchoBatchAsync(CaseContext ctx, PayloadKind kind, int size, int count, int? fragmentSize = null)
    {
        var payloads = new DeflatePayloads(kind);
        var opcode = payloads.IsText ? Opcodes.Text : Opcodes.Binary;
        var threshold = ctx.DeflateExpectations.Threshold;
        long raw = 0, sent = 0, received = 0;
        var plain = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var payload = payloads.Next(size);
            await ctx.SendCompressedAsync(opcode, payload, fragmentSize, log: i == 0);
            var got = await ctx.NextAsync(ctx.Timeouts.Reply, log: i == 0);
            if (got is not MessageEvent message || message.Binary != (opcode == Opcodes.Binary) || !message.Payload.AsSpan().SequenceEqual(payload))
            {
                var want = $"{(payloads.IsText ? "text" : "binary")} message {Payloads.Describe(payload)}";
                return Verdict.Failed($"message {i + 1} of {count}: expected the echo {want}, got {Describe(got, payload)}");
            }

            raw += size;
            sent += ctx.LastCompressedLength;
            received += message.WireLength;
            plain += !message.Compressed && size >= threshold ? 1 : 0;
        }

        var summary = Verdict.Ok($"{count} messages of {size} bytes echoed in {clock.ElapsedMilliseconds} ms; {raw} bytes sent as {sent}, echoed as {received}");
        return plain == 0
            ? summary
            : Verdict.Combine(summary, Verdict.NonStrict($"{plain} of {count} echoes of {size} bytes came back uncompressed (RSV1 clear) though at least the {threshold}-byte threshold"));
    }

    /// <summary>
    /// Null when permessage-deflate is in use; otherwise the verdict: FAILED for an invalid answer from the server
    /// (RFC 7692 5: the client fails the connection, which ending the case does), else INFORMATIONAL (Autobahn's
    /// UNIMPLEMENTED) or FAILED with --require-deflate, after a normal close.
    /// </summary>
    public static async Task<Verdict?> RequireAgreementAsync(CaseContext ctx)
    {
        var negotiation = ctx.Negotiation ?? new Negotiation();
        if (negotiation.Problem is { } problem)
        {
            return Verdict.Failed($"{negotiation.Describe()}: {problem}");
        }

        if (negotiation.Agreement is not null)
        {
            return null;
        }

        var why = negotiation.NotApplicable ?? (ctx.Role == Role.Client
            ? $"the server declined the offer \"{negotiation.Offered}\""
            : $"the client's offer \"{negotiation.Offered ?? "(nothing)"}\" was declined");
        var grade = ctx.DeflateExpectations.Required
            ? Verdict.Failed($"permessage-deflate not negotiated: {why} (--require-deflate)")
            : Verdict.Informational($"permessage-deflate not negotiated: {why} (Autobahn: UNIMPLEMENTED)");
        return Verdict.Combine(grade, await Judge.CloseAsync(ctx));
    }

    /// <summary>What a peer that is not echoing correctly sent instead.</summary>
    public static string Describe(WireEvent? got, byte[] payload)
    {
        if (got is not MessageEvent message)
        {
            return got?.ToString() ?? "nothing within the reply timeout";
        }

        var common = message.Payload.AsSpan().CommonPrefixLength(payload);
        return $"{message} (lengths {message.Payload.Length} vs {payload.Length}, first difference at byte {common})";
    }

    private static DeflateSetup Setup(Variant variant) => new() { Offers = variant.ClientOffers, Answer = variant.AnswerTo };

    private static DeflateParams Window(int bits) => new() { ClientMaxWindowBits = true, ClientMaxWindowBitsValue = bits };

    private static ConformanceCase Echo(string id, Variant variant, PayloadKind kind, int size)
    {
        var answers = string.Join(", else ", variant.ServerAnswers.Select(a => $"\"{a}\""));
        var description =
            $"Send {MessagesPerCase} compressed messages of {size} bytes ({DeflatePayloads.Describe(kind)}) under {variant.Summary}; " +
            $"expect each echoed byte for byte, compressed from the threshold on. Client role: offer \"{string.Join(", ", variant.ClientOffers)}\"; " +
            $"server role: answer {answers} to the echo client's offer.";
        return new ConformanceCase(id, description, async ctx =>
        {
            if (await RequireAgreementAsync(ctx) is { } notNegotiated)
            {
                return notNegotiated;
            }

            var echoed = await EchoBatchAsync(ctx, kind, size, MessagesPerCase);
            return echoed.Result == CaseResult.Failed ? echoed : Verdict.Combine(echoed, await Judge.CloseAsync(ctx));
        })
        {
            Deflate = Setup(variant),
            Timeout = TimeSpan.FromSeconds(size >= 32768 ? 180 : 60),
        };
    }

    /// <summary>
    /// One parameter combination: the header we send as client, and as server the answers we prefer, in order
    /// (Autobahn's accept functions: the first preference some valid offer of the client allows wins).
    /// </summary>
    private sealed record Variant(string Summary, IReadOnlyList<string> ClientOffers, IReadOnlyList<DeflateParams> ServerAnswers)
    {
        public ServerAnswer AnswerTo(string? offered)
        {
            var offers = Negotiation.ParseOffers(offered);
            var valid = offers.Where(o => o.Params is not null).Select(o => o.Params!).ToList();
            if (valid.Count == 0)
            {
                return new ServerAnswer(null, null, offers.Count == 0
                    ? "the client offered no permessage-deflate"
                    : $"every permessage-deflate offer of the client is invalid ({string.Join("; ", offers.Select(o => o.Error))})");
            }

            foreach (var preference in ServerAnswers)
            {
                foreach (var offer in valid)
                {
                    // RFC 7692 7.1.2.2: client_max_window_bits may only be answered when offered.
                    if (preference.ClientMaxWindowBits && !offer.ClientMaxWindowBits)
                    {
                        continue;
                    }

                    // 7.1.1.1 and 7.1.2.1: what the client asks of the server must be in an accepting answer.
                    var response = preference with
                    {
                        ServerNoContextTakeover = preference.ServerNoContextTakeover || offer.ServerNoContextTakeover,
                        ServerMaxWindowBits = offer.ServerMaxWindowBits is { } asked ? Math.Min(preference.ServerMaxWindowBits ?? asked, asked) : preference.ServerMaxWindowBits,
                    };
                    return new ServerAnswer(response.ToString(), DeflateAgreement.From(offer, response));
                }
            }

            return new ServerAnswer(null, null, $"no offer of the client (\"{offered}\") includes client_max_window_bits, which the answer \"{ServerAnswers[0]}\" needs (RFC 7692 7.1.2.2)");
        }
    }
}
