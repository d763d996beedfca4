using System.Buffers;
using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Protocol;

/// <summary>FrameHeader.TryRead/Write against the RFC 6455 §5.7 examples and the §5.2 length rules.</summary>
public class FrameHeaderTests
{
    private static FrameHeader ReadDone(byte[] bytes)
    {
        Assert.Equal(OperationStatus.Done, FrameHeader.TryRead(bytes, out FrameHeader header, out ProtocolError error));
        Assert.False(error.IsError);
        return header;
    }

    [Fact]
    public void Reads_single_frame_unmasked_text_Hello()
    {
        byte[] frame = Bytes.Hex("81 05 48 65 6c 6c 6f");

        FrameHeader h = ReadDone(frame);

        Assert.True(h.Fin);
        Assert.Equal(0, h.Rsv);
        Assert.Equal(Opcode.Text, h.Opcode);
        Assert.False(h.Masked);
        Assert.Equal(5, h.PayloadLength);
        Assert.Equal(2, h.Size);
        Assert.Equal("Hello", System.Text.Encoding.ASCII.GetString(frame, h.Size, (int)h.PayloadLength));
    }

    [Fact]
    public void Reads_single_frame_masked_text_Hello_and_unmasks_it()
    {
        byte[] frame = Bytes.Hex("81 85 37 fa 21 3d 7f 9f 4d 51 58");

        FrameHeader h = ReadDone(frame);

        Assert.True(h.Fin);
        Assert.Equal(Opcode.Text, h.Opcode);
        Assert.True(h.Masked);
        Assert.Equal(5, h.PayloadLength);
        Assert.Equal(6, h.Size);
        Assert.Equal(Bytes.Hex("37 fa 21 3d"), BitConverter.GetBytes(h.MaskingKey)); // wire order, low byte first
        byte[] payload = frame[h.Size..];
        Mask.Apply(payload, h.MaskingKey, 0);
        Assert.Equal("Hello"u8.ToArray(), payload);
    }

    [Fact]
    public void Reads_fragmented_unmasked_text_Hel_lo()
    {
        FrameHeader first = ReadDone(Bytes.Hex("01 03 48 65 6c"));
        FrameHeader second = ReadDone(Bytes.Hex("80 02 6c 6f"));

        Assert.False(first.Fin);
        Assert.Equal(Opcode.Text, first.Opcode);
        Assert.Equal(3, first.PayloadLength);
        Assert.True(second.Fin);
        Assert.Equal(Opcode.Continuation, second.Opcode);
        Assert.Equal(2, second.PayloadLength);
    }

    [Fact]
    public void Reads_unmasked_ping_and_masked_pong()
    {
        FrameHeader ping = ReadDone(Bytes.Hex("89 05 48 65 6c 6c 6f"));
        byte[] pongFrame = Bytes.Hex("8a 85 37 fa 21 3d 7f 9f 4d 51 58");
        FrameHeader pong = ReadDone(pongFrame);

        Assert.Equal(Opcode.Ping, ping.Opcode);
        Assert.True(ping.Fin);
        Assert.False(ping.Masked);
        Assert.Equal(5, ping.PayloadLength);
        Assert.Equal(Opcode.Pong, pong.Opcode);
        Assert.True(pong.Masked);
        Assert.Equal(5, pong.PayloadLength);
        byte[] payload = pongFrame[pong.Size..];
        Mask.Apply(payload, pong.MaskingKey, 0);
        Assert.Equal("Hello"u8.ToArray(), payload);
    }

    [Fact]
    public void Reads_256_byte_binary_with_16_bit_length()
    {
        FrameHeader h = ReadDone(Bytes.Hex("82 7E 01 00"));

        Assert.Equal(Opcode.Binary, h.Opcode);
        Assert.Equal(256, h.PayloadLength);
        Assert.Equal(4, h.Size);
    }

    [Fact]
    public void Reads_64_KiB_binary_with_64_bit_length()
    {
        FrameHeader h = ReadDone(Bytes.Hex("82 7F 00 00 00 00 00 01 00 00"));

        Assert.Equal(Opcode.Binary, h.Opcode);
        Assert.Equal(65536, h.PayloadLength);
        Assert.Equal(10, h.Size);
    }

    [Fact]
    public void Writes_the_RFC_examples_byte_for_byte()
    {
        var buffer = new byte[FrameHeader.MaxSize];

        Assert.Equal(Bytes.Hex("81 05"), buffer[..FrameHeader.Write(buffer, true, Opcode.Text, 5, false, 0)]);
        uint key = BitConverter.ToUInt32(Bytes.Hex("37 fa 21 3d"));
        Assert.Equal(Bytes.Hex("81 85 37 fa 21 3d"), buffer[..FrameHeader.Write(buffer, true, Opcode.Text, 5, true, key)]);
        Assert.Equal(Bytes.Hex("01 03"), buffer[..FrameHeader.Write(buffer, false, Opcode.Text, 3, false, 0)]);
        Assert.Equal(Bytes.Hex("80 02"), buffer[..FrameHeader.Write(buffer, true, Opcode.Continuation, 2, false, 0)]);
        Assert.Equal(Bytes.Hex("89 05"), buffer[..FrameHeader.Write(buffer, true, Opcode.Ping, 5, false, 0)]);
        Assert.Equal(Bytes.Hex("8a 85 37 fa 21 3d"), buffer[..FrameHeader.Write(buffer, true, Opcode.Pong, 5, true, key)]);
        Assert.Equal(Bytes.Hex("82 7E 01 00"), buffer[..FrameHeader.Write(buffer, true, Opcode.Binary, 256, false, 0)]);
        Assert.Equal(Bytes.Hex("82 7F 00 00 00 00 00 01 00 00"), buffer[..FrameHeader.Write(buffer, true, Opcode.Binary, 65536, false, 0)]);
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(125, 2)]
    [InlineData(126, 4)]
    [InlineData(65535, 4)]
    [InlineData(65536, 10)]
    [InlineData(int.MaxValue + 1L, 10)]
    public void Write_uses_the_minimal_length_encoding(long length, int expectedSize)
    {
        var buffer = new byte[FrameHeader.MaxSize];

        int unmasked = FrameHeader.Write(buffer, true, Opcode.Binary, length, false, 0);
        FrameHeader roundTrip = ReadDone(buffer[..unmasked]);
        int masked = FrameHeader.Write(buffer, true, Opcode.Binary, length, true, 0x01020304);

        Assert.Equal(expectedSize, unmasked);
        Assert.Equal(expectedSize + 4, masked);
        Assert.Equal(expectedSize, FrameHeader.GetSize(length, false));
        Assert.Equal(expectedSize + 4, FrameHeader.GetSize(length, true));
        Assert.Equal(length, roundTrip.PayloadLength);
        int expectedCode = length <= 125 ? (int)length : length <= 65535 ? 126 : 127;
        Assert.Equal(expectedCode, buffer[1] & 0x7F);
    }

    [Fact]
    public void Write_sets_rsv_bits_and_round_trips()
    {
        var buffer = new byte[FrameHeader.MaxSize];
        int n = FrameHeader.Write(buffer, false, Opcode.Binary, 10, true, 0xAABBCCDD, rsv: 0b101);

        FrameHeader h = ReadDone(buffer[..n]);

        Assert.Equal(0x52, buffer[0]); // FIN 0, RSV1 1, RSV2 0, RSV3 1, opcode 2
        Assert.False(h.Fin);
        Assert.Equal(0b101, h.Rsv);
        Assert.Equal(0xAABBCCDDu, h.MaskingKey);
    }

    [Fact]
    public void Sixty_four_bit_length_with_most_significant_bit_set_is_invalid_1002()
    {
        byte[] frame = Bytes.Hex("82 7F 80 00 00 00 00 00 00 01");

        OperationStatus status = FrameHeader.TryRead(frame, out _, out ProtocolError error);

        Assert.Equal(OperationStatus.InvalidData, status);
        Assert.Equal(CloseCode.ProtocolError, error.CloseCode);
    }

    [Theory]
    [InlineData("81 05")]
    [InlineData("81 85 37 fa 21 3d")]
    [InlineData("82 7E 01 00")]
    [InlineData("82 FE 01 00 01 02 03 04")]
    [InlineData("82 7F 00 00 00 00 00 01 00 00")]
    [InlineData("82 FF 00 00 00 00 00 01 00 00 01 02 03 04")]
    public void Header_split_at_every_byte_boundary_needs_more_data_until_complete(string hex)
    {
        byte[] header = Bytes.Hex(hex);
        for (int n = 0; n < header.Length; n++)
        {
            Assert.Equal(OperationStatus.NeedMoreData, FrameHeader.TryRead(header.AsSpan(0, n), out _, out _));
        }

        FrameHeader complete = ReadDone(header);
        Assert.Equal(header.Length, complete.Size);
    }

    [Theory]
    [InlineData("82 FF 00 00 00 00 00 01 00 00 01 02 03 04")]
    [InlineData("81 85 37 fa 21 3d")]
    public void Header_straddling_sequence_segments_reads_the_same_at_every_split(string hex)
    {
        byte[] header = Bytes.Concat(Bytes.Hex(hex), [0xEE, 0xEE]); // trailing payload bytes
        FrameHeader expected = ReadDone(header);
        for (int split = 1; split < header.Length; split++)
        {
            ReadOnlySequence<byte> sequence = TwoSegments(header, split);

            Assert.Equal(OperationStatus.Done, FrameHeader.TryRead(sequence, out FrameHeader h, out _));
            Assert.Equal(expected.PayloadLength, h.PayloadLength);
            Assert.Equal(expected.MaskingKey, h.MaskingKey);
            Assert.Equal(expected.Size, h.Size);
            Assert.Equal(expected.Opcode, h.Opcode);
        }
    }

    [Fact]
    public void Header_incomplete_across_sequence_segments_needs_more_data()
    {
        byte[] header = Bytes.Hex("82 FF 00 00 00 00 00 01 00 00 01 02 03");
        for (int split = 1; split < header.Length; split++)
        {
            Assert.Equal(OperationStatus.NeedMoreData, FrameHeader.TryRead(TwoSegments(header, split), out _, out _));
        }
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] data, int split) => Sequences.Split(data, split);
}
