using System.Text;

namespace Sockeye.Cli.Exec;

/// <summary>
/// Splits a command string into program and arguments with POSIX-shell-like quoting ('single', "double", \escape),
/// without running a shell: no variables, globs, pipes or redirections, and signals reach the program itself rather
/// than a shell in between. Use <c>sh -c '...'</c> explicitly when shell features are wanted.
/// </summary>
internal static class CommandSplitter
{
    public static bool TrySplit(string command, out List<string> words, out string error)
    {
        words = [];
        error = string.Empty;
        var word = new StringBuilder();
        bool inWord = false;
        int i = 0;
        while (i < command.Length)
        {
            char c = command[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }

                i++;
                continue;
            }

            inWord = true;
            switch (c)
            {
                case '\'':
                    int end = command.IndexOf('\'', i + 1);
                    if (end < 0)
                    {
                        error = "unterminated ' quote";
                        return false;
                    }

                    word.Append(command, i + 1, end - i - 1);
                    i = end + 1;
                    break;
                case '"':
                    i++;
                    while (true)
                    {
                        if (i >= command.Length)
                        {
                            error = "unterminated \" quote";
                            return false;
                        }

                        char d = command[i];
                        if (d == '"')
                        {
                            i++;
                            break;
                        }

                        // As in sh: inside double quotes a backslash only escapes " \ $ `.
                        if (d == '\\' && i + 1 < command.Length && command[i + 1] is '"' or '\\' or '$' or '`')
                        {
                            word.Append(command[i + 1]);
                            i += 2;
                            continue;
                        }

                        word.Append(d);
                        i++;
                    }

                    break;
                case '\\':
                    if (i + 1 >= command.Length)
                    {
                        error = "trailing backslash";
                        return false;
                    }

                    word.Append(command[i + 1]);
                    i += 2;
                    break;
                default:
                    word.Append(c);
                    i++;
                    break;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        if (words.Count == 0)
        {
            error = "empty command";
            return false;
        }

        return true;
    }
}
