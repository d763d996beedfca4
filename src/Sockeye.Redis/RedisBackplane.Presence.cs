using System.Collections.Concurrent;
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
    private readonly ConcurrentDictionary<(string Topic, string Connection), PresenceMember> _members = new();
    private readonly ConcurrentDictionary<(string Topic, string Connection), PresenceMember> _pendingLeaves = new();

    /// <inheritdoc/>
    public override async ValueTask JoinAsync(string topic, PresenceMember member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        _members[(topic, member.Connection)] = member;
        _pendingLeaves.TryRemove((topic, member.Connection), out _);
        RedisKeys keys = KeysOf(topic);
        if (IsConnected)
        {
            try
            {
                await _db.ScriptEvaluateAsync(RedisScripts.Join, [keys.Presence],
                    [keys.ChannelName, member.Connection, NodeId, EncodeInfo(member.Info), _expiryMs]).WaitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                MarkDown(ex.Message);
            }
        }

        Sink.OnPresence(topic, member, joined: true); // locally now; in Redis after the reconnect
    }

    /// <inheritdoc/>
    public override async ValueTask LeaveAsync(string topic, PresenceMember member, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        _members.TryRemove((topic, member.Connection), out _);
        RedisKeys keys = KeysOf(topic);
        if (IsConnected)
        {
            try
            {
                await _db.ScriptEvaluateAsync(RedisScripts.Leave, [keys.Presence],
                    [keys.ChannelName, member.Connection, EncodeInfo(member.Info)]).WaitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                MarkDown(ex.Message);
            }
        }

        _pendingLeaves[(topic, member.Connection)] = member;
        Sink.OnPresence(topic, member, joined: false);
    }

    /// <inheritdoc/>
    public override async ValueTask<IReadOnlyList<PresenceMember>> GetPresenceAsync(string topic, CancellationToken cancellationToken)
    {
        if (IsConnected)
        {
            try
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
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                MarkDown(ex.Message);
            }
        }

        // Unreachable: the members this node knows, its own.
        return [.. _members.Where(pair => string.Equals(pair.Key.Topic, topic, StringComparison.Ordinal)).Select(pair => pair.Value)];
    }

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
        if (lapsed == 1 || rejoin)
        {
            foreach (KeyValuePair<(string Topic, string Connection), PresenceMember> pair in _members)
            {
                RedisKeys keys = KeysOf(pair.Key.Topic);
                await _db.ScriptEvaluateAsync(RedisScripts.Join, [keys.Presence],
                    [keys.ChannelName, pair.Key.Connection, NodeId, EncodeInfo(pair.Value.Info), _expiryMs]).ConfigureAwait(false);
            }
        }

        foreach (KeyValuePair<(string Topic, string Connection), PresenceMember> pair in _pendingLeaves)
        {
            RedisKeys keys = KeysOf(pair.Key.Topic);
            await _db.ScriptEvaluateAsync(RedisScripts.Leave, [keys.Presence],
                [keys.ChannelName, pair.Key.Connection, EncodeInfo(pair.Value.Info)]).ConfigureAwait(false);
            _pendingLeaves.TryRemove(pair);
        }
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
