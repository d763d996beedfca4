using System.Buffers;
using System.Text;

namespace Sockeye.SecurityTests.Fuzz;

/// <summary>
/// Found by the trickle property: the refusal status of a request depends on how its bytes arrive. An incomplete
/// head is refused early with 431 "too many header fields" by counting raw line feeds, before its request line is
/// checked; the same bytes arriving at once (terminated) get 400 "malformed request line". Both refuse and close,
/// so this is an inconsistency, not a bypass: the answer should not depend on TCP segmentation.
/// </summary>
public sealed class HttpHeadParserConsistencyTests
{
    private const int MaxFields = 2;

    [Fact]
    public void Refusal_status_does_not_depend_on_how_the_head_is_split()
    {
        byte[] head = Encoding.ASCII.GetBytes("NOT A REQUEST LINE\r\na:1\r\nb:2\r\nc:3\r\n\r\n");
        int wholeStatus = Refusal(head);
        Assert.Equal(400, wholeStatus); // the request line is malformed

        for (int p = 1; p < head.Length; p++)
        {
            HttpParseStatus status = HttpHeadParser.TryParseRequest(new ReadOnlySequence<byte>(head, 0, p), 16 * 1024, MaxFields,
                out _, out _, out int errorStatus, out string error);
            if (status == HttpParseStatus.Invalid)
            {
                Assert.True(wholeStatus == errorStatus, $"after {p} bytes: {errorStatus} '{error}', but the whole head gets {wholeStatus}");
                return;
            }
        }
    }

    private static int Refusal(byte[] head)
    {
        HttpParseStatus status = HttpHeadParser.TryParseRequest(new ReadOnlySequence<byte>(head), 16 * 1024, MaxFields, out _, out _, out int errorStatus, out _);
        Assert.Equal(HttpParseStatus.Invalid, status);
        return errorStatus;
    }
}
