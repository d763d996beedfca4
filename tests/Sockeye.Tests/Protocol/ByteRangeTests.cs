using Sockeye.Protocol;

namespace Sockeye.Tests.Protocol;

public class ByteRangeTests
{
    [Theory]
    [InlineData("bytes=0-9", 0, 10)]
    [InlineData("bytes=1000-", 1000, 24)]
    [InlineData("bytes=-5", 1019, 5)]
    [InlineData("bytes=-5000", 0, 1024)]          // a suffix longer than the file is the whole file, as a range
    [InlineData("bytes=10-99999", 10, 1014)]       // last-pos past the end is clamped
    [InlineData("bytes=1023-1023", 1023, 1)]
    [InlineData("Bytes=0-0", 0, 1)]                // the unit is case-insensitive
    [InlineData("bytes= 0-9 ,", 0, 10)]            // list syntax: OWS and empty elements (RFC 9110 §5.6.1)
    [InlineData("bytes=5-99999999999999999999999", 5, 1019)] // saturates instead of overflowing
    public void One_satisfiable_range_is_partial(string header, long start, long count)
    {
        Assert.Equal(RangeKind.Partial, ByteRange.Parse(header, 1024, out long s, out long c));
        Assert.Equal((start, count), (s, c));
    }

    [Theory]
    [InlineData("bytes=1024-")]
    [InlineData("bytes=5000-6000")]
    [InlineData("bytes=-0")]
    [InlineData("bytes=99999999999999999999999-")]
    public void A_range_with_no_byte_in_the_file_is_unsatisfiable(string header)
    {
        Assert.Equal(RangeKind.Unsatisfiable, ByteRange.Parse(header, 1024, out _, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("bytes=")]
    [InlineData("bytes=5-3")]         // last < first: invalid (§14.1.1), ignored
    [InlineData("bytes=a-b")]
    [InlineData("bytes=0-1,5-6")]     // several ranges: the whole file (documented)
    [InlineData("bytes=-")]
    [InlineData("bytes=1")]
    [InlineData("items=0-1")]
    [InlineData("bytes = 0-1")]
    [InlineData("bytes=+1-2")]
    public void Anything_else_is_the_whole_file(string? header)
    {
        Assert.Equal(RangeKind.Whole, ByteRange.Parse(header, 1024, out long start, out long count));
        Assert.Equal((0L, 1024L), (start, count));
    }

    [Fact]
    public void An_empty_file_has_no_satisfiable_int_range_and_answers_suffixes_whole()
    {
        Assert.Equal(RangeKind.Unsatisfiable, ByteRange.Parse("bytes=0-", 0, out _, out _));
        Assert.Equal(RangeKind.Whole, ByteRange.Parse("bytes=-5", 0, out _, out long count));
        Assert.Equal(0, count);
    }
}
