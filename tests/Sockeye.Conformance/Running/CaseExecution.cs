using System.Diagnostics;
using System.Net.Sockets;
using Sockeye.Conformance.Cases;
using Sockeye.Conformance.Deflate;
using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Running;

/// <summary>Runs one case on a connected socket: handshake, script, cleanup, with the case's overall timeout.</summary>
internal static class CaseExecution
{
    /// <summary>Performs the opening handshake for the role.</summary>
    public delegate Task<HandshakeResult> HandshakeAsync(NetworkStream stream, InputBuffer input, CancellationToken cancellationToken);

    public static async Task<CaseOutcome> RunAsync(
        ConformanceCase testCase, Socket socket, Role role, HandshakeAsync handshake, Timeouts timeouts, DeflateExpectations deflate, TimeSpan caseTimeout)
    {
        var clock = Stopwatch.StartNew();
        using var cts = new CancellationTokenSource(caseTimeout);
        socket.NoDelay = true;
        var stream = new NetworkStream(socket, ownsSocket: true);
        var input = new InputBuffer(stream);
        await using var connection = new WireConnection(socket, stream, input, role);
        var context = new CaseContext(connection, timeouts, deflate, cts.Token);
        Verdict verdict;
        try
        {
            var result = await handshake(stream, input, cts.Token);
            if (result.Error is null)
            {
                context.Negotiation = result.Negotiation;
                if (result.Negotiation is { } negotiation)
                {
                    context.Note($"extensions: {negotiation.Describe()}");
                }

                // The session must exist before the read loop starts: the peer may send compressed frames right away.
                if (result.Negotiation?.Agreement is { } agreement)
                {
                    connection.Deflate = new DeflateSession(role, agreement);
                    context.Note($"permessage-deflate: {agreement}; we compress with the {connection.Deflate.Compressor}");
                }

                connection.Start();
                verdict = await testCase.Run(context);
            }
            else if (result.Refused && testCase.Deflate is { } setup)
            {
                // RFC 7692 7: a server declines an offer it does not support and goes on without it.
                verdict = Verdict.NonStrict($"the server refused the upgrade ({result.Error}) over the offer \"{string.Join(", ", setup.Offers)}\" instead of declining what it does not support (RFC 7692 7)");
            }
            else
            {
                verdict = Verdict.Failed($"opening handshake: {result.Error}");
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            verdict = Verdict.Failed($"case did not finish within {caseTimeout.TotalSeconds:0} s");
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            verdict = Verdict.Failed($"connection error: {ex.GetBaseException().Message}");
        }
        catch (Exception ex)
        {
            // One broken case must not abort the run; the failure names the harness so it is not blamed on the peer.
            verdict = Verdict.Failed($"harness error: {ex.GetType().Name}: {ex.Message}");
        }

        return new CaseOutcome(testCase.Id, testCase.Description, verdict, clock.ElapsedMilliseconds, context.Transcript) { PeerCloseCode = context.PeerCloseCode };
    }
}
