using Sockeye.Protocol;

namespace Sockeye.Tests.Protocol;

public class ReceiveRulesTests
{
    private const long Big = 1 << 20;

    // A header as the given role receives it: masked from a client (server role), unmasked from a server.
    private static FrameHeader Frame(Role receiver, Opcode opcode, long length = 0, bool fin = true, byte rsv = 0) =>
        new(fin, rsv, opcode, receiver == Role.Server, receiver == Role.Server ? 0x11223344u : 0, length, 2);

    private static ProtocolError Check(ref ReceiveRules rules, FrameHeader header) => rules.OnHeader(header, out _);

    [Fact]
    public void Server_fails_unmasked_frame_with_1002()
    {
        var rules = new ReceiveRules(Role.Server, Big, Big);

        ProtocolError error = Check(ref rules, new FrameHeader(true, 0, Opcode.Text, false, 0, 5, 2));

        Assert.Equal(CloseCode.ProtocolError, error.CloseCode);
    }

    [Fact]
    public void Client_fails_masked_frame_with_1002()
    {
        var rules = new ReceiveRules(Role.Client, Big, Big);

        ProtocolError error = Check(ref rules, new FrameHeader(true, 0, Opcode.Text, true, 0x01020304, 5, 6));

        Assert.Equal(CloseCode.ProtocolError, error.CloseCode);
    }

    [Theory]
    [InlineData(Role.Server, (byte)Opcode.Ping)]
    [InlineData(Role.Client, (byte)Opcode.Ping)]
    [InlineData(Role.Server, (byte)Opcode.Close)]
    [InlineData(Role.Client, (byte)Opcode.Pong)]
    public void Masking_rule_applies_to_control_frames_too(Role role, byte opcodeValue)
    {
        var opcode = (Opcode)opcodeValue;
        var rules = new ReceiveRules(role, Big, Big);
        bool wrongMask = role == Role.Client;

        ProtocolError error = Check(ref rules, new FrameHeader(true, 0, opcode, wrongMask, 0, 0, 2));

        Assert.Equal(CloseCode.ProtocolError, error.CloseCode);
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public void Accepts_correctly_masked_data_and_control_frames(Role role)
    {
        var rules = new ReceiveRules(role, Big, Big);

        Assert.False(Check(ref rules, Frame(role, Opcode.Text, 5)).IsError);
        Assert.False(Check(ref rules, Frame(role, Opcode.Binary, 5)).IsError);
        Assert.False(Check(ref rules, Frame(role, Opcode.Ping, 125)).IsError);
        Assert.False(Check(ref rules, Frame(role, Opcode.Pong, 0)).IsError);
        Assert.False(Check(ref rules, Frame(role, Opcode.Close, 2)).IsError);
    }

    [Theory]
    [InlineData(Role.Server, 0b100)]
    [InlineData(Role.Server, 0b010)]
    [InlineData(Role.Server, 0b001)]
    [InlineData(Role.Client, 0b100)]
    [InlineData(Role.Client, 0b111)]
    public void Fails_RSV_bits_without_extension_with_1002(Role role, byte rsv)
    {
        var rules = new ReceiveRules(role, Big, Big);

        ProtocolError error = Check(ref rules, Frame(role, Opcode.Text, 5, rsv: rsv));

        Assert.Equal(CloseCode.ProtocolError, error.CloseCode);
    }

    [Fact]
    public void Negotiated_RSV1_is_allowed_on_data_frames_only()
    {
        var rules = new ReceiveRules(Role.Server, Big, Big, allowedRsv: 0b100);

        Assert.False(Check(ref rules, Frame(Role.Server, Opcode.Text, 5, rsv: 0b100)).IsError);
        Assert.Equal(CloseCode.ProtocolError, Check(ref rules, Frame(Role.Server, Opcode.Ping, 0, rsv: 0b100)).CloseCode);
    }

    [Theory]
    [InlineData(Role.Server, 3)]
    [InlineData(Role.Server, 7)]
    [InlineData(Role.Server, 0xB)]
    [InlineData(Role.Server, 0xF)]
    [InlineData(Role.Client, 4)]
    [InlineData(Role.Client, 0xC)]
    public void Fails_reserved_opcode_with_1002(Role role, byte opcode)
    {
        var rules = new ReceiveRules(role, Big, Big);

        ProtocolError error = Check(ref rules, Frame(role, (Opcode)opcode, 0));

        Assert.Equal(CloseCode.ProtocolError, error.CloseCode);
    }

    [Theory]
    [InlineData(Role.Server, (byte)Opcode.Ping)]
    [InlineData(Role.Client, (byte)Opcode.Pong)]
    [InlineData(Role.Server, (byte)Opcode.Close)]
    public void Fails_control_frame_longer_than_125_with_1002(Role role, byte opcodeValue)
    {
        var opcode = (Opcode)opcodeValue;
        var rules = new ReceiveRules(role, Big, Big);

        Assert.False(Check(ref rules, Frame(role, opcode, 125)).IsError);
        Assert.Equal(CloseCode.ProtocolError, Check(ref rules, Frame(role, opcode, 126)).CloseCode);
    }

    [Theory]
    [InlineData(Role.Server, (byte)Opcode.Ping)]
    [InlineData(Role.Client, (byte)Opcode.Close)]
    public void Fails_fragmented_control_frame_with_1002(Role role, byte opcodeValue)
    {
        var opcode = (Opcode)opcodeValue;
        var rules = new ReceiveRules(role, Big, Big);

        ProtocolError error = Check(ref rules, Frame(role, opcode, 1, fin: false));

        Assert.Equal(CloseCode.ProtocolError, error.CloseCode);
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public void Fails_continuation_without_a_started_message_with_1002(Role role)
    {
        var rules = new ReceiveRules(role, Big, Big);

        ProtocolError error = Check(ref rules, Frame(role, Opcode.Continuation, 3));

        Assert.Equal(CloseCode.ProtocolError, error.CloseCode);
    }

    [Theory]
    [InlineData(Role.Server, (byte)Opcode.Text)]
    [InlineData(Role.Server, (byte)Opcode.Binary)]
    [InlineData(Role.Client, (byte)Opcode.Text)]
    public void Fails_new_data_frame_inside_a_fragmented_message_with_1002(Role role, byte secondValue)
    {
        var second = (Opcode)secondValue;
        var rules = new ReceiveRules(role, Big, Big);
        Assert.False(Check(ref rules, Frame(role, Opcode.Text, 3, fin: false)).IsError);

        ProtocolError error = Check(ref rules, Frame(role, second, 2));

        Assert.Equal(CloseCode.ProtocolError, error.CloseCode);
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public void Allows_control_frames_between_fragments_and_tracks_the_message(Role role)
    {
        var rules = new ReceiveRules(role, Big, Big);

        Assert.False(rules.OnHeader(Frame(role, Opcode.Binary, 3, fin: false), out Opcode first).IsError);
        Assert.False(rules.OnHeader(Frame(role, Opcode.Ping, 4), out _).IsError);
        Assert.False(rules.OnHeader(Frame(role, Opcode.Pong, 0), out _).IsError);
        Assert.True(rules.InMessage);
        Assert.False(rules.OnHeader(Frame(role, Opcode.Continuation, 2, fin: false), out Opcode middle).IsError);
        Assert.False(rules.OnHeader(Frame(role, Opcode.Continuation, 1), out Opcode last).IsError);

        Assert.Equal(Opcode.Binary, first);
        Assert.Equal(Opcode.Binary, middle);
        Assert.Equal(Opcode.Binary, last);
        Assert.Equal(6, rules.MessageLength);
        Assert.False(rules.InMessage);
        Assert.False(Check(ref rules, Frame(role, Opcode.Text, 1)).IsError); // a new message may start
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public void Fails_message_over_the_limit_with_1009(Role role)
    {
        var rules = new ReceiveRules(role, maxMessageSize: 100, maxFrameSize: 100);

        Assert.False(Check(ref rules, Frame(role, Opcode.Text, 100)).IsError);
        Assert.Equal(CloseCode.MessageTooBig, Check(ref rules, Frame(role, Opcode.Text, 101)).CloseCode);
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public void Fails_message_over_the_limit_across_fragments_with_1009(Role role)
    {
        var rules = new ReceiveRules(role, maxMessageSize: 1000, maxFrameSize: 1000);

        Assert.False(Check(ref rules, Frame(role, Opcode.Binary, 600, fin: false)).IsError);
        Assert.False(Check(ref rules, Frame(role, Opcode.Continuation, 400, fin: false)).IsError);
        Assert.Equal(CloseCode.MessageTooBig, Check(ref rules, Frame(role, Opcode.Continuation, 1)).CloseCode);
    }

    [Fact]
    public void Message_size_counts_from_zero_for_each_message()
    {
        var rules = new ReceiveRules(Role.Server, maxMessageSize: 1000, maxFrameSize: 1000);

        Assert.False(Check(ref rules, Frame(Role.Server, Opcode.Binary, 600, fin: false)).IsError);
        Assert.False(Check(ref rules, Frame(Role.Server, Opcode.Continuation, 400)).IsError);
        Assert.False(Check(ref rules, Frame(Role.Server, Opcode.Binary, 1000)).IsError);
    }

    [Theory]
    [InlineData(Role.Server)]
    [InlineData(Role.Client)]
    public void Fails_frame_over_the_frame_limit_with_1009(Role role)
    {
        var rules = new ReceiveRules(role, maxMessageSize: 1000, maxFrameSize: 10);

        Assert.False(Check(ref rules, Frame(role, Opcode.Binary, 10, fin: false)).IsError);
        Assert.Equal(CloseCode.MessageTooBig, Check(ref rules, Frame(role, Opcode.Continuation, 11)).CloseCode);
    }

    [Fact]
    public void Unlimited_message_lifts_the_message_limit_but_not_the_frame_limit()
    {
        var rules = new ReceiveRules(Role.Server, maxMessageSize: 10, maxFrameSize: 8);

        Assert.False(rules.OnHeader(Frame(Role.Server, Opcode.Binary, 8, fin: false), out _, unlimitedMessage: true).IsError);
        Assert.False(rules.OnHeader(Frame(Role.Server, Opcode.Continuation, 8, fin: false), out _, unlimitedMessage: true).IsError);
        Assert.Equal(CloseCode.MessageTooBig,
            rules.OnHeader(Frame(Role.Server, Opcode.Continuation, 9), out _, unlimitedMessage: true).CloseCode);
    }

    [Fact]
    public void An_unlimited_frame_size_accepts_compressed_frames_without_overflowing()
    {
        // long.MaxValue means "no frame limit" (sockeye connect printing); limit + compression slack used to overflow.
        var rules = new ReceiveRules(Role.Client, long.MaxValue, long.MaxValue, allowedRsv: 0b100);
        Assert.False(Check(ref rules, Frame(Role.Client, Opcode.Text, 40, rsv: 0b100)).IsError);
        var limited = new ReceiveRules(Role.Client, 100, 100, allowedRsv: 0b100);
        Assert.True(Check(ref limited, Frame(Role.Client, Opcode.Text, 100 + ReceiveRules.CompressionSlack(100) + 1, rsv: 0b100)).IsError);
    }
}
