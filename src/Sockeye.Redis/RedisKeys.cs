using System.Text;
using StackExchange.Redis;

namespace Sockeye.Redis;

/// <summary>
/// The key layout (docs/scale-out.md): every key of one topic carries the topic in a <c>{hash tag}</c>, so a script
/// touching them all stays on one slot.
/// </summary>
internal sealed class RedisKeys
{
    public RedisKeys(string prefix, string topic)
    {
        string tagged = prefix + "{" + topic + "}";
        Meta = tagged + ":meta";
        Stream = tagged + ":stream";
        Presence = tagged + ":presence";
        ChannelName = Encoding.UTF8.GetBytes(tagged);
        Channel = RedisChannel.Literal(ChannelName);
    }

    /// <summary>Hash <c>{epoch, seq}</c>: the stream's epoch and last offset.</summary>
    public RedisKey Meta { get; }

    /// <summary>Stream of the kept messages, entry id <c>&lt;offset&gt;-0</c>, fields <c>y</c> (t|b), <c>t</c> (ms), <c>d</c>.</summary>
    public RedisKey Stream { get; }

    /// <summary>Hash member connection → <c>node\n</c> + info (<c>-</c> for none, <c>+json</c>).</summary>
    public RedisKey Presence { get; }

    /// <summary>Pub/sub channel of the topic's messages and presence events.</summary>
    public RedisChannel Channel { get; }

    /// <summary>The channel's name, for scripts that publish on it.</summary>
    public byte[] ChannelName { get; }

    /// <summary>Sorted set node → expiry (ms, Redis clock).</summary>
    public static RedisKey Nodes(string prefix) => prefix + "nodes";
}
