using System.Text;
using Microsoft.Extensions.Logging;
using Sockeye.Topics;
using Sockeye.Topics.Backplanes;
using StackExchange.Redis;

namespace Sockeye.Redis;

// Presence across nodes: one hash per topic, member → owning node; a node's liveness is its score in the nodes set,
// refreshed by its heartbeat; any node sweeps the members of dead nodes from the topics it serves.
public sealed partial class RedisBackplane
{
    /// <inheritdoc/>
    protected override Task AddMemberAsync(string topic, PresenceMember member, CancellationToken cancellationToken)
    {
        RedisKeys keys = KeysOf(topic);
        return _db.ScriptEvaluateAsync(RedisScripts.Join, [keys.Presence],
            [keys.ChannelName, member.Connection, NodeId, EncodeInfo(member.Info), _expiryMs]).WaitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    protected override Task RemoveMemberAsync(string topic, PresenceMember member, CancellationToken cancellationToken)
    {
        RedisKeys keys = KeysOf(topic);
        return _db.ScriptEvaluateAsync(RedisScripts.Leave, [keys.Presence],
            [keys.ChannelName, member.Connection, EncodeInfo(member.Info)]).WaitAsync(cancellationToken);
    }

    /// <inheritdoc/>
    protected override async Task<IReadOnlyList<PresenceMember>> ReadPresenceAsync(string topic, CancellationToken cancellationToken)
    {
        RedisKeys keys = KeysOf(topic);
        var alive = (RedisValue[])(await _db.ScriptEvaluateAsync(RedisScripts.Sweep, [keys.Presence, _nodes], [keys.ChannelName]).WaitAsync(cancellationToken).ConfigureAwait(false))!;
        var members = new List<PresenceMember>(alive.Length / 2);
        for (int i = 0; i + 1 < alive.Length; i += 2)
        {
            string value = (string)alive[i + 1]!;
            int newline = value.IndexOf('\n', StringComparison.Ordinal);
            members.Add(new PresenceMember((string)alive[i]!, DecodeInfo(value.AsSpan(newline + 1))));
        }

        return members;
    }

    /// <inheritdoc/>
    protected override Task RemoveNodeAsync() => _db.SortedSetRemoveAsync(_nodes, NodeId);

    // j<connection>\n<info> / l<connection>\n<info>
    private void OnPresenceEvent(RedisTopic state, ReadOnlySpan<byte> span, bool joined)
    {
        int newline = span.IndexOf((byte)'\n');
        if (newline <= 0)
        {
            throw new FormatException("bad presence event");
        }

        state.HasPresence = true;
        var member = new PresenceMember(Encoding.UTF8.GetString(span[..newline]), DecodeInfo(Encoding.UTF8.GetString(span[(newline + 1)..])));
        Sink.OnPresence(state.Name, member, joined);
    }

    private RedisKeys KeysOf(string topic) => Topics.TryGetValue(topic, out BackplaneTopic? state) ? ((RedisTopic)state).Keys : new RedisKeys(_prefix, topic);

    private static string EncodeInfo(string? info) => info is null ? "-" : "+" + info;

    private static string? DecodeInfo(ReadOnlySpan<char> encoded) => encoded.Length > 0 && encoded[0] == '+' ? encoded[1..].ToString() : null;

    /// <summary>
    /// Extends this node's liveness. When it had lapsed (a long pause, a Redis that lost its data) or after a
    /// reconnect, this node's members are added again and the leaves that could not be sent are sent.
    /// </summary>
    private async Task HeartbeatAsync(bool rejoin)
    {
        long lapsed = (long)await _db.ScriptEvaluateAsync(RedisScripts.Heartbeat, [_nodes], [NodeId, (long)_options.PresenceTimeout.TotalMilliseconds]).ConfigureAwait(false);
        await RewritePresenceAsync(all: lapsed == 1 || rejoin, olderThan: null).ConfigureAwait(false);
    }

    // Every PresenceHeartbeat while connected: liveness, sweep of dead nodes' members, and topics whose probe never came back.

    /// <inheritdoc/>
    protected override async Task OnHeartbeatAsync()
    {
        await HeartbeatAsync(rejoin: false).ConfigureAwait(false);
        foreach (RedisTopic state in Topics.Values)
        {
            if (state.HasPresence && !state.Removed)
            {
                await _db.ScriptEvaluateAsync(RedisScripts.Sweep, [state.Keys.Presence, _nodes], [state.Keys.ChannelName]).ConfigureAwait(false);
            }

            if (state.AwaitingProbe && !state.Removed)
            {
                await RelistenAsync(state).ConfigureAwait(false);
            }
        }
    }
}
