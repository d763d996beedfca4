namespace Sockeye.Protocol;

/// <summary>
/// The receive-side state of one connection that frame-level checks need: whether a fragmented message is open,
/// its opcode and size so far, and the limits. Checks every header against RFC 6455 §5 before any payload is read,
/// so oversized or illegal frames are refused from their header alone.
/// </summary>
internal struct ReceiveRules
{
    private readonly Role _role;
    private readonly byte _allowedRsv;
    private readonly long _maxMessageSize;
    private readonly long _maxFrameSize;
    private readonly int _minFragmentCharge;

    /// <summary>Creates the rules for a connection.</summary>
    /// <param name="role">This endpoint's role.</param>
    /// <param name="maxMessageSize">Largest message accepted (1009 beyond).</param>
    /// <param name="maxFrameSize">Largest single frame accepted (1009 beyond).</param>
    /// <param name="allowedRsv">RSV bits an extension negotiated (RSV1 = 0b100); others fail the connection.</param>
    /// <param name="minFragmentCharge">What a non-final fragment smaller than this counts against the message limit.</param>
    public ReceiveRules(Role role, long maxMessageSize, long maxFrameSize, byte allowedRsv = 0, int minFragmentCharge = 64)
    {
        _minFragmentCharge = minFragmentCharge;
        _role = role;
        _maxMessageSize = maxMessageSize;
        _maxFrameSize = maxFrameSize;
        _allowedRsv = allowedRsv;
        MessageOpcode = Opcode.Continuation;
    }

    /// <summary>True while a fragmented message is open (its first frame had FIN clear).</summary>
    public readonly bool InMessage => MessageOpcode != Opcode.Continuation;

    /// <summary>Opcode of the open message (Text or Binary), or Continuation when none is open.</summary>
    public Opcode MessageOpcode { get; private set; }

    /// <summary>True while the open message is compressed (RSV1 on its first frame, RFC 7692 §6).</summary>
    public bool MessageCompressed { get; private set; }

    /// <summary>
    /// What a compressed message or frame may exceed the limits by on the wire: deflate adds a few bytes per stored
    /// block to data it cannot shrink, and an incompressible message of exactly the limit must still fit. Its
    /// inflated size is held to the limit itself (1009) as it is inflated.
    /// </summary>
    public static long CompressionSlack(long limit) => (limit >> 10) + 64;

    /// <summary>Payload bytes of the open message accepted so far.</summary>
    public long MessageLength { get; private set; }

    /// <summary>What the open message has cost against the size limit: its bytes plus the tiny-fragment surcharge.</summary>
    public long MessageCharge { get; private set; }

    /// <summary>
    /// The checks that depend only on the header and the fragmentation state, not on how the message will be
    /// delivered: run before waiting for the application, so an illegal frame fails the connection at once.
    /// Does not change the state.
    /// </summary>
    public readonly ProtocolError CheckFrame(in FrameHeader header)
    {
        // §5.2: "RSV1, RSV2, RSV3: MUST be 0 unless an extension is negotiated that defines meanings".
        if ((header.Rsv & ~_allowedRsv) != 0)
        {
            return ProtocolError.Protocol("reserved bits set without a negotiated extension");
        }

        // §5.2: "If an unknown opcode is received, the receiving endpoint MUST _Fail the WebSocket Connection_."
        if (!header.Opcode.IsDefined())
        {
            return ProtocolError.Protocol("reserved opcode");
        }

        // §5.1: a server MUST close on an unmasked frame; a client MUST close on a masked one.
        if (_role == Role.Server && !header.Masked)
        {
            return ProtocolError.Protocol("client frame is not masked");
        }

        if (_role == Role.Client && header.Masked)
        {
            return ProtocolError.Protocol("server frame is masked");
        }

        if (header.Opcode.IsControl())
        {
            // §5.5: "All control frames MUST have a payload length of 125 bytes or less and MUST NOT be fragmented."
            if (!header.Fin)
            {
                return ProtocolError.Protocol("fragmented control frame");
            }

            if (header.PayloadLength > FrameHeader.MaxControlPayload)
            {
                return ProtocolError.Protocol("control frame payload longer than 125 bytes");
            }

            // RSV1 of an extension such as permessage-deflate applies to data frames only (RFC 7692 §6).
            if (header.Rsv != 0)
            {
                return ProtocolError.Protocol("reserved bits set on a control frame");
            }

            return default;
        }

        if (header.Opcode == Opcode.Continuation)
        {
            // §5.4: a continuation frame only continues an open fragmented message.
            if (!InMessage)
            {
                return ProtocolError.Protocol("continuation frame without a message to continue");
            }

            if (header.Rsv != 0)
            {
                return ProtocolError.Protocol("reserved bits set on a continuation frame");
            }
        }
        else if (InMessage)
        {
            // §5.4: fragments of one message may not be interleaved with a new data message.
            return ProtocolError.Protocol("new data frame while a fragmented message is open");
        }

        bool compressed = (header.Rsv & 0b100) != 0 || (header.Opcode == Opcode.Continuation && MessageCompressed);
        // Compared by difference, not by adding the slack to the limit: a limit of long.MaxValue ("no limit") would
        // overflow and refuse every compressed frame.
        if (header.PayloadLength > _maxFrameSize && header.PayloadLength - _maxFrameSize > (compressed ? CompressionSlack(_maxFrameSize) : 0))
        {
            return ProtocolError.TooBig("frame exceeds the maximum frame size");
        }

        return default;
    }

    /// <summary>
    /// Checks a header against the state and, when it is a data frame, advances the state as if its payload were
    /// read. <paramref name="messageOpcode"/> receives the opcode of the message a data frame belongs to (Text or
    /// Binary, also for continuations). <paramref name="unlimitedMessage"/> lifts the message-size limit (streamed messages; frames still count).
    /// </summary>
    public ProtocolError OnHeader(in FrameHeader header, out Opcode messageOpcode, bool unlimitedMessage = false)
    {
        messageOpcode = header.Opcode == Opcode.Continuation ? MessageOpcode : header.Opcode;
        ProtocolError error = CheckFrame(header);
        if (error.IsError || header.Opcode.IsControl())
        {
            return error;
        }

        bool continuing = header.Opcode == Opcode.Continuation;
        bool compressed = continuing ? MessageCompressed : (header.Rsv & 0b100) != 0;
        // Saturating: a limit of long.MaxValue ("no limit") plus the slack must not wrap around.
        long slack = compressed ? CompressionSlack(_maxMessageSize) : 0;
        long limit = _maxMessageSize > long.MaxValue - slack ? long.MaxValue : _maxMessageSize + slack;
        long total = (continuing ? MessageLength : 0) + header.PayloadLength;
        // Fragment floods: a non-final fragment costs at least _minFragmentCharge, so a flood of tiny or empty
        // fragments hits the limit after maxMessageSize / _minFragmentCharge frames.
        long charge = (continuing ? MessageCharge : 0) + (header.Fin ? header.PayloadLength : Math.Max(header.PayloadLength, _minFragmentCharge));
        if (!unlimitedMessage && (total > limit || charge > limit))
        {
            return ProtocolError.TooBig(total > limit
                ? "message exceeds the maximum message size"
                : "too many small fragments for the maximum message size");
        }

        MessageLength = total;
        MessageCharge = charge;
        MessageCompressed = compressed && !header.Fin;
        MessageOpcode = header.Fin ? Opcode.Continuation : header.Opcode == Opcode.Continuation ? MessageOpcode : header.Opcode;
        return default;
    }
}
