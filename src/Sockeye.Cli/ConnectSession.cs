using System.Diagnostics;

namespace Sockeye.Cli;

/// <summary>What <c>sockeye connect</c> does with stdin and when it closes.</summary>
internal sealed record ConnectStdin
{
    /// <summary>Send all of stdin as one binary message instead of one text message per line.</summary>
    public bool Binary { get; init; }

    /// <summary>At stdin EOF, close at once (--no-wait).</summary>
    public bool CloseAtEof { get; init; }

    /// <summary>After stdin EOF, close once nothing has arrived for this long (--quiet-time); null: wait for the server.</summary>
    public TimeSpan? QuietTime { get; init; }
}

/// <summary>
/// One <c>sockeye connect</c> session: stdin goes out, everything received is printed, and after stdin EOF it keeps
/// printing until the server closes (or the quiet time passes, or at once with --no-wait), then closes 1000. Closing
/// at EOF straight away would let a server that answers the close at once drop what it was about to send.
/// </summary>
internal sealed class ConnectSession
{
    /// <summary>Exit status after Ctrl-C or SIGTERM (128 + SIGINT, the shell convention).</summary>
    public const int InterruptedExit = 130;

    private readonly WebSocketConnection _connection;
    private readonly MessagePrinter? _printer;
    private int _clientClosed;

    private ConnectSession(WebSocketConnection connection, MessagePrinter? printer)
    {
        _connection = connection;
        _printer = printer;
    }

    /// <summary>Runs until the connection is closed; returns the exit status.</summary>
    public static async Task<int> RunAsync(WebSocketConnection connection, ConnectStdin stdin, CancellationToken cancellationToken)
    {
        using var printer = new MessagePrinter(Console.OpenStandardOutput());
        var session = new ConnectSession(connection, printer);
        Task printing = printer.RunAsync(connection);
        // Console reads block a thread, so stdin gets its own; when the server closes first we exit without waiting
        // for stdin (the thread is a background one).
        _ = Task.Run(() => session.SendAsync(stdin), CancellationToken.None);
        return await session.FinishAsync(printing, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>sockeye connect --echo</c>: every message goes straight back until the server closes.</summary>
    public static async Task<int> EchoAsync(WebSocketConnection connection, CancellationToken cancellationToken)
    {
        var session = new ConnectSession(connection, printer: null);
        return await session.FinishAsync(Echo(connection), cancellationToken).ConfigureAwait(false);

        static async Task Echo(WebSocketConnection connection)
        {
            try
            {
                while (await connection.ReceiveAsync(CancellationToken.None).ConfigureAwait(false) is { IsClose: false } message)
                {
                    await connection.SendAsync(message.Type, message.Payload, CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (WebSocketClosedException)
            {
                // The connection closed while echoing; the close status tells how.
            }
        }
    }

    private async Task<int> FinishAsync(Task receiving, CancellationToken cancellationToken)
    {
        // Ctrl-C or SIGTERM: end the session properly rather than cut it.
        using (cancellationToken.Register(static s => _ = ((ConnectSession)s!).CloseAsync(), this))
        {
            try
            {
                await receiving.ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                // stdout is gone (e.g. `| head -1`): nobody reads what arrives any more.
                await Console.Error.WriteLineAsync($"sockeye: stdout: {ex.Message}").ConfigureAwait(false);
                await CloseAsync().ConfigureAwait(false);
            }

            await _connection.Completion.ConfigureAwait(false);
        }

        return cancellationToken.IsCancellationRequested
            ? InterruptedExit
            : CloseReport.Report(_connection, Volatile.Read(ref _clientClosed) != 0, Console.Error);
    }

    private async Task SendAsync(ConnectStdin stdin)
    {
        try
        {
            if (stdin.Binary)
            {
                await using Stream input = Console.OpenStandardInput();
                await StdinSender.SendBinaryAsync(_connection, input).ConfigureAwait(false);
            }
            else
            {
                await StdinSender.SendLinesAsync(_connection, Console.In).ConfigureAwait(false);
            }
        }
        catch (WebSocketClosedException)
        {
            return; // the server closed (or the connection failed) first: nothing left to do with stdin
        }
        catch (IOException ex)
        {
            await Console.Error.WriteLineAsync($"sockeye: stdin: {ex.Message}").ConfigureAwait(false);
        }

        long eof = Stopwatch.GetTimestamp();
        if (stdin.CloseAtEof)
        {
            await CloseAsync().ConfigureAwait(false);
        }
        else if (stdin.QuietTime is { } quiet)
        {
            await CloseWhenQuietAsync(quiet, eof).ConfigureAwait(false);
        }

        // Otherwise the server decides when the session ends.
    }

    /// <summary>Closes once nothing has arrived for <paramref name="quiet"/> since stdin EOF or the last part received.</summary>
    private async Task CloseWhenQuietAsync(TimeSpan quiet, long eof)
    {
        while (!_connection.IsClosing)
        {
            TimeSpan left = quiet - Stopwatch.GetElapsedTime(Math.Max(eof, _printer?.LastPart ?? eof));
            if (left <= TimeSpan.Zero)
            {
                await CloseAsync().ConfigureAwait(false);
                return;
            }

            await Task.WhenAny(Task.Delay(left), _connection.Completion).ConfigureAwait(false);
        }
    }

    /// <summary>The client's close: 1000, then whatever still arrives is printed until the server's close reply.</summary>
    private async Task CloseAsync()
    {
        if (!_connection.IsClosing)
        {
            Volatile.Write(ref _clientClosed, 1);
        }

        try
        {
            await _connection.CloseAsync(CloseCode.NormalClosure).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketClosedException or IOException or ObjectDisposedException)
        {
            // Already closed or failed: the close status tells how.
        }
    }
}
