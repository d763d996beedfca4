using System.Text;

namespace Sockeye.Topics;

/// <summary>Topic name rules (docs/protocol.md §3): 1–256 UTF-8 bytes, no control characters.</summary>
internal static class TopicName
{
    public const int MaxBytes = 256;

    public static string? Check(string? topic)
    {
        if (string.IsNullOrEmpty(topic))
        {
            return "the topic name is empty";
        }

        if (topic.Length > MaxBytes || Encoding.UTF8.GetByteCount(topic) > MaxBytes)
        {
            return $"the topic name is over {MaxBytes} bytes";
        }

        foreach (char c in topic)
        {
            if (char.IsControl(c))
            {
                return "the topic name has a control character";
            }
        }

        return null;
    }
}
