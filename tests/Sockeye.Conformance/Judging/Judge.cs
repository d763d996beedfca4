using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Judging;

/// <summary>The expectation patterns Autobahn's cases are built from, judged the Autobahn way.</summary>
internal static class Judge
{
    /// <summary>The peer must produce exactly <paramref name="expected"/>, then complete a normal closing handshake.</summary>
    public static async Task<Verdict> ExpectThenCloseAsync(CaseContext ctx, params ExpectedEvent[] expected) =>
        await AwaitEventsAsync(ctx, expected, ctx.Timeouts.Reply) ?? await CloseAsync(ctx);

    /// <summary>Awaits <paramref name="expected"/> in order; null when all arrived, else the failure.</summary>
    public static async Task<Verdict?> AwaitEventsAsync(CaseContext ctx, IReadOnlyList<ExpectedEvent> expected, TimeSpan timeout)
    {
        foreach (var want in expected)
        {
            var got = await ctx.NextAsync(timeout);
            if (got is null)
            {
                return Verdict.Failed($"no {want} within {timeout.TotalSeconds:0.#} s");
            }

            if (!want.Matches(got))
            {
                return Verdict.Failed($"expected {want}, got {got}{Difference(want, got)}");
            }
        }

        return null;
    }

    /// <summary>We start a normal closing handshake (RFC 6455 7.1.2) and judge the reply.</summary>
    public static async Task<Verdict> CloseAsync(CaseContext ctx)
    {
        await ctx.SendAsync(OutFrame.Close(CloseCodes.Normal));
        return await AwaitCloseReplyAsync(ctx, CloseReply.Normal);
    }

    /// <summary>
    /// After our Close: the peer MUST answer with a Close (RFC 6455 5.5.1), send nothing else, and then the TCP
    /// connection must end, closed by the server first (7.1.1).
    /// </summary>
    public static async Task<Verdict> AwaitCloseReplyAsync(CaseContext ctx, CloseReply reply)
    {
        var got = await ctx.NextAsync(ctx.Timeouts.Close);
        return got switch
        {
            null => Verdict.Failed($"no Close reply within {ctx.Timeouts.Close.TotalSeconds:0.#} s (RFC 6455 5.5.1: MUST answer Close)"),
            ViolationEvent v => Verdict.Failed(v.ToString()),
            DisconnectedEvent when reply.AfterInvalidClose => Verdict.Ok("peer dropped the TCP connection on our invalid Close"),
            DisconnectedEvent => Verdict.Failed("peer dropped the TCP connection instead of answering Close (RFC 6455 5.5.1)"),
            CloseEvent close => Verdict.Combine(JudgeReplyCode(close.Code, reply), await AwaitTransportCloseAsync(ctx)),
            _ => Verdict.Failed($"unexpected {got} after our Close"),
        };
    }

    /// <summary>
    /// The peer must _Fail the WebSocket Connection_ (RFC 6455 7.1.7) with <paramref name="expectedCode"/>, having sent
    /// exactly <paramref name="strict"/> before (or <paramref name="nonStrict"/>, graded NON-STRICT).
    /// </summary>
    public static async Task<Verdict> ExpectFailureAsync(
        CaseContext ctx, ushort expectedCode, IReadOnlyList<ExpectedEvent>? strict = null, IReadOnlyList<ExpectedEvent>? nonStrict = null)
    {
        strict ??= [];
        var received = new List<WireEvent>();
        while (true)
        {
            var got = await ctx.NextAsync(ctx.Timeouts.Fail);
            switch (got)
            {
                case null:
                    return Verdict.Failed($"peer did not fail the connection within {ctx.Timeouts.Fail.TotalSeconds:0.#} s (expected Close {expectedCode})");
                case ViolationEvent v:
                    return Verdict.Failed(v.ToString());
                case CloseEvent close:
                    var code = JudgeFailureCode(close.Code, expectedCode);
                    if (!ctx.CloseSent)
                    {
                        // RFC 6455 5.5.1: answer the Close, echoing its code.
                        await ctx.SendAsync(close.Code is { } c ? OutFrame.Close(c) : OutFrame.CloseRaw(ReadOnlyMemory<byte>.Empty));
                    }

                    return Verdict.Combine(JudgeEventsBeforeFailure(received, strict, nonStrict), code, await AwaitTransportCloseAsync(ctx));
                case DisconnectedEvent:
                    return Verdict.Combine(
                        JudgeEventsBeforeFailure(received, strict, nonStrict),
                        Verdict.NonStrict($"peer dropped TCP without a Close frame (RFC 6455 7.1.7: SHOULD send Close {expectedCode})"));
                default:
                    received.Add(got);
                    if (!IsPrefix(received, strict) && (nonStrict is null || !IsPrefix(received, nonStrict)))
                    {
                        return Verdict.Failed($"peer did not fail the connection: got {got}");
                    }

                    break;
            }
        }
    }

    /// <summary>After both Close frames: the client waits for the server to close TCP; as the server we close it (RFC 6455 7.1.1).</summary>
    public static async Task<Verdict> AwaitTransportCloseAsync(CaseContext ctx)
    {
        if (ctx.Role == Role.Server)
        {
            ctx.Connection.ShutdownSend();
        }

        var got = await ctx.NextAsync(ctx.Timeouts.Close);
        return got switch
        {
            DisconnectedEvent => Verdict.Ok(""),
            null when ctx.Role == Role.Client => Verdict.Failed($"server did not close the TCP connection within {ctx.Timeouts.Close.TotalSeconds:0.#} s of the closing handshake (RFC 6455 7.1.1)"),
            null => Verdict.Failed($"client did not close the TCP connection within {ctx.Timeouts.Close.TotalSeconds:0.#} s of ours (RFC 6455 7.1.1)"),
            ViolationEvent v => Verdict.Failed(v.ToString()),
            _ => Verdict.Failed($"unexpected {got} after the closing handshake"),
        };
    }

    private static Verdict JudgeReplyCode(ushort? code, CloseReply reply)
    {
        if (code is null)
        {
            return reply.AfterInvalidClose
                ? Verdict.NonStrict($"answered with a Close without status code, expected {reply.AcceptedText}")
                : Verdict.Ok("Close answered without status code");
        }

        if (reply.Accepted.Contains(code.Value))
        {
            return Verdict.Ok($"Close answered with {code}");
        }

        return reply.AfterInvalidClose && CloseCodes.IsErrorCode(code.Value)
            ? Verdict.NonStrict($"answered with Close {code}, expected {reply.AcceptedText}")
            : Verdict.Failed($"answered with Close {code}, expected {reply.AcceptedText}");
    }

    private static Verdict JudgeFailureCode(ushort? code, ushort expected)
    {
        if (code == expected)
        {
            return Verdict.Ok($"peer failed the connection with {expected}");
        }

        if (code is null)
        {
            return Verdict.NonStrict($"failed with a Close without status code, expected {expected}");
        }

        return CloseCodes.IsErrorCode(code.Value)
            ? Verdict.NonStrict($"failed with {code}, expected {expected}")
            : Verdict.Failed($"closed with {code} instead of failing with {expected}");
    }

    private static Verdict JudgeEventsBeforeFailure(List<WireEvent> received, IReadOnlyList<ExpectedEvent> strict, IReadOnlyList<ExpectedEvent>? nonStrict)
    {
        if (received.Count == strict.Count && IsPrefix(received, strict))
        {
            return Verdict.Ok("");
        }

        var expected = strict.Count == 0 ? "nothing" : string.Join(", ", strict);
        var got = received.Count == 0 ? "nothing" : string.Join(", ", received);
        return nonStrict is not null && received.Count == nonStrict.Count && IsPrefix(received, nonStrict)
            ? Verdict.NonStrict($"sent {got} before failing; strict behaviour is {expected}")
            : Verdict.Failed($"sent {got} before failing, expected {expected}");
    }

    private static bool IsPrefix(List<WireEvent> received, IReadOnlyList<ExpectedEvent> expected) =>
        received.Count <= expected.Count && received.Select((e, i) => expected[i].Matches(e)).All(m => m);

    private static string Difference(ExpectedEvent want, WireEvent got)
    {
        if (got is not MessageEvent message || !want.Kind.StartsWith(message.Binary ? "binary" : "text", StringComparison.Ordinal))
        {
            return "";
        }

        var a = want.Payload.Span;
        var b = message.Payload.AsSpan();
        var common = a.CommonPrefixLength(b);
        return $" (lengths {b.Length} vs {a.Length}, first difference at byte {common})";
    }
}
