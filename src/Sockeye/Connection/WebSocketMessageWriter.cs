using System.Buffers;
using System.Text;
using Sockeye.Protocol;

namespace Sockeye;

/// <summary>
/// Sends one message in fragments (RFC 6455 §5.4). Obtained from <see cref="WebSocketConnection.BeginMessageAsync(MessageType, CancellationToken)"/>;
/// other data messages on the connection wait until <see cref="CompleteAsync"/> or disposal ends this one.
/// </summary>
public sealed class WebSocketMessageWriter : IAsyncDisposable
{
    private readonly WebSocketConnection _connection;
    private readonly Opcode _opcode;
    private readonly bool _compress;
    private Utf8Validator _utf8;
    private bool _started;
    private bool _done;

    internal WebSocketMessageWriter(WebSocketConnection connection, Opcode opcode, bool compress)
    {
        _connection = connection;
        _opcode = opcode;
        _compress = compress;
    }

    /// <summary>Sends a fragment. For text messages the concatenated fragments must be valid UTF-8.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> fragment, CancellationToken cancellationToken = default) =>
        WriteCoreAsync(fragment, fin: false, cancellationToken);

    /// <summary>Sends a text fragment.</summary>
    public ValueTask WriteAsync(string text, CancellationToken cancellationToken = default) =>
        WriteCoreAsync(Encoding.UTF8.GetBytes(text), fin: false, cancellationToken);

    /// <summary>Sends the final fragment (possibly empty) and releases the connection for other messages.</summary>
    public async ValueTask CompleteAsync(ReadOnlyMemory<byte> finalFragment = default, CancellationToken cancellationToken = default)
    {
        try
        {
            await WriteCoreAsync(finalFragment, fin: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Release();
        }
    }

    private ValueTask WriteCoreAsync(ReadOnlyMemory<byte> fragment, bool fin, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        if (_opcode == Opcode.Text && (!_utf8.Append(fragment.Span) || (fin && !_utf8.IsComplete)))
        {
            throw new ArgumentException("Text messages must be valid UTF-8 (RFC 6455 §5.6).", nameof(fragment));
        }

        Opcode opcode = _started ? Opcode.Continuation : _opcode;
        _started = true;
        return _connection.WriteFragmentAsync(opcode, new ReadOnlySequence<byte>(fragment), fin, _compress, cancellationToken);
    }

    private void Release()
    {
        if (!_done)
        {
            _done = true;
            _connection.EndMessage();
        }
    }

    /// <summary>Ends the message if it was not completed (sending an empty final fragment when possible).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_done)
        {
            return;
        }

        try
        {
            if (_started && !_connection.IsClosing)
            {
                await _connection.WriteFragmentAsync(Opcode.Continuation, default, fin: true, _compress, default).ConfigureAwait(false);
            }
        }
        catch (WebSocketClosedException)
        {
        }
        finally
        {
            Release();
        }
    }
}
