using System.Text.Json;
using Sockeye.Tests.Topics;

namespace Sockeye.ScaleOut.Tests;

/// <summary>Reads a sockeye.v1 subscriber's frames and checks the protocol's promise: no silent gap.</summary>
internal static class Frames
{
    /// <summary>Frames (msg and reset) until a msg with <paramref name="text"/>, at most <paramref name="limit"/> frames.</summary>
    public static async Task<List<JsonElement>> UntilTextAsync(TopicPeer peer, string text, int limit = 10_000)
    {
        var frames = new List<JsonElement>();
        for (int i = 0; i < limit; i++)
        {
            JsonElement frame = await peer.ReceiveJsonAsync() ?? throw new InvalidOperationException($"closed before '{text}'");
            string op = frame.GetProperty("op").GetString()!;
            if (op is "msg" or "reset")
            {
                frames.Add(frame);
            }

            if (op == "msg" && frame.GetProperty("text").GetString() == text)
            {
                return frames;
            }
        }

        throw new InvalidOperationException($"no '{text}' in {limit} frames");
    }

    /// <summary>
    /// Starting at <paramref name="epoch"/>:<paramref name="offset"/>, every msg is the next offset of the current epoch,
    /// and only a reset moves the position otherwise. Returns the texts in order.
    /// </summary>
    public static List<string> AssertContinuous(string epoch, long offset, IEnumerable<JsonElement> frames)
    {
        var texts = new List<string>();
        foreach (JsonElement frame in frames)
        {
            string frameEpoch = frame.GetProperty("epoch").GetString()!;
            long frameOffset = frame.GetProperty("offset").GetInt64();
            if (frame.GetProperty("op").GetString() == "reset")
            {
                epoch = frameEpoch;
                offset = frameOffset;
                continue;
            }

            Assert.True(frameEpoch == epoch && frameOffset == offset + 1,
                $"silent gap: at {epoch}:{offset}, got msg {frameEpoch}:{frameOffset} '{frame.GetProperty("text").GetString()}'");
            offset = frameOffset;
            texts.Add(frame.GetProperty("text").GetString()!);
        }

        return texts;
    }
}
