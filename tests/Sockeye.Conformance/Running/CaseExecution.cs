using System.Diagnostics;
using System.Net.Sockets;
using Sockeye.Conformance.Cases;
using Sockeye.Conformance.Judging;
using Sockeye.Conformance.Wire;

namespace Sockeye.Conformance.Running;

/// <summary>Runs one case on a connected socket: handshake, script, cleanup, with the case's overall timeout.</summary>
internal static class CaseExecution
{
    /// <summary>Performs the opening handshake for the role; returns an error message or null.</summary>
    public delegate Task<string?> HandshakeAsync(NetworkStream stream, InputBuffer input, CancellationToken cancellationToken);

    public static async Task<CaseOutcome> RunAsync(ConformanceCase testCase, Socket socket, Role role, HandshakeAsync handshake, Timeouts timeouts, TimeSpan caseTimeout)
    {
        var clock = Stopwatch.StartNew();
        using var cts = new CancellationTokenSource(caseTimeout);
        socket.NoDelay = true;
        var stream = new NetworkStream(socket, ownsSocket: true);
        var input = new InputBuffer(stream);
        await using var connection = new WireConnection(socket, stream, input, role);
        var context = new CaseContext(connection, timeouts, cts.Token);
        Verdict verdict;
        try
        {
            var error = await handshake(stream, input, cts.Token);
            if (error is null)
            {
                connection.Start();
                verdict = await testCase.Run(context);
            }
            else
            {
                verdict = Verdict.Failed($"opening handshake: {error}");
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
