using System.Text;
using Sockeye.Protocol;
using Sockeye.Tests.Support;

namespace Sockeye.Tests.Protocol;

public class ClosePayloadTests
{
    [Fact]
    public void Empty_body_means_no_status_1005()
    {
        ProtocolError error = ClosePayload.TryParse([], out ushort code, out string reason);

        Assert.False(error.IsError);
        Assert.Equal(CloseCode.NoStatusReceived, code);
        Assert.Equal(string.Empty, reason);
    }

    [Fact]
    public void One_byte_body_is_a_protocol_error_1002()
    {
        ProtocolError error = ClosePayload.TryParse([0x03], out _, out _);

        Assert.Equal(CloseCode.ProtocolError, error.CloseCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(999)]
    [InlineData(1004)]
    [InlineData(1005)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(1016)]
    [InlineData(2000)]
    [InlineData(2999)]
    [InlineData(5000)]
    [InlineData(65535)]
    public void Invalid_close_code_is_a_protocol_error_1002(int code)
    {
        byte[] body = [(byte)(code >> 8), (byte)code];

        ProtocolError error = ClosePayload.TryParse(body, out _, out _);

        Assert.Equal(CloseCode.ProtocolError, error.CloseCode);
        Assert.False(CloseCode.IsValidOnWire(code));
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(1001)]
    [InlineData(1002)]
    [InlineData(1003)]
    [InlineData(1007)]
    [InlineData(1011)]
    [InlineData(1014)]
    [InlineData(3000)]
    [InlineData(4000)]
    [InlineData(4999)]
    public void Valid_close_code_is_accepted_with_its_reason(int code)
    {
        byte[] body = Bytes.Concat([(byte)(code >> 8), (byte)code], Encoding.UTF8.GetBytes("bye ✓"));

        ProtocolError error = ClosePayload.TryParse(body, out ushort parsed, out string reason);

        Assert.False(error.IsError);
        Assert.Equal(code, parsed);
        Assert.Equal("bye ✓", reason);
    }

    [Theory]
    [InlineData("ff")]
    [InlineData("ed a0 80")]
    [InlineData("c2")] // truncated at the end
    public void Invalid_UTF8_reason_is_1007(string reasonHex)
    {
        byte[] body = Bytes.Concat([0x03, 0xE8], Bytes.Hex(reasonHex));

        ProtocolError error = ClosePayload.TryParse(body, out _, out _);

        Assert.Equal(CloseCode.InvalidPayloadData, error.CloseCode);
    }

    [Fact]
    public void Write_encodes_code_big_endian_then_reason()
    {
        var buffer = new byte[125];

        int n = ClosePayload.Write(buffer, 1000, "bye");

        Assert.Equal(Bytes.Hex("03 e8 62 79 65"), buffer[..n]);
    }

    [Fact]
    public void Write_without_reason_is_the_code_only()
    {
        var buffer = new byte[125];

        Assert.Equal(2, ClosePayload.Write(buffer, 4001, null));
        Assert.Equal(Bytes.Hex("0f a1"), buffer[..2]);
        Assert.Equal(2, ClosePayload.Write(buffer, 4001, string.Empty));
    }

    [Fact]
    public void Write_1005_is_an_empty_body()
    {
        Assert.Equal(0, ClosePayload.Write(new byte[125], CloseCode.NoStatusReceived, "ignored"));
    }

    [Theory]
    [InlineData("a", 123)] // 1-byte chars: exactly 123 bytes fit
    [InlineData("é", 122)] // 2-byte chars: 61 fit, the 62nd would straddle the limit
    [InlineData("€", 123)] // 3-byte chars: 41 fit exactly
    [InlineData("😀", 120)] // 4-byte chars (surrogate pairs): 30 fit
    public void Write_truncates_the_reason_to_125_bytes_at_a_character_boundary(string unit, int expectedReasonBytes)
    {
        string reason = string.Concat(Enumerable.Repeat(unit, 200));
        var buffer = new byte[300];

        int n = ClosePayload.Write(buffer, 1000, reason);

        Assert.Equal(2 + expectedReasonBytes, n);
        Assert.True(n <= 125);
        ProtocolError error = ClosePayload.TryParse(buffer.AsSpan(0, n), out ushort code, out string parsed);
        Assert.False(error.IsError);
        Assert.Equal(1000, code);
        Assert.StartsWith(parsed, reason, StringComparison.Ordinal);
    }
}
