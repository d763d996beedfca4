using System.Reflection;
using System.Reflection.Emit;
using Sockeye.Protocol;

namespace Sockeye.Tests.Protocol;

/// <summary>
/// The protocol core (docs/architecture.md, layer 1) knows no extension: the client's handshake checks the deflate
/// answer, not <see cref="UpgradeResponse"/>. Read from the compiled assembly, method bodies included.
/// </summary>
public class LayeringTests
{
    private static readonly Dictionary<short, OpCode> s_opCodes = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>The deflate extension: its namespace, and its public settings (which live in namespace Sockeye).</summary>
    private static bool IsExtension(Type type) =>
        type.Namespace == "Sockeye.Extensions" || type.Name.StartsWith("PerMessageDeflate", StringComparison.Ordinal);

    [Fact]
    public void No_protocol_type_depends_on_an_extension()
    {
        Assembly library = typeof(UpgradeResponse).Assembly;
        Type[] protocol = library.GetTypes().Where(t => t.Namespace == "Sockeye.Protocol").ToArray();
        Assert.Contains(typeof(UpgradeResponse), protocol);

        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Type type in protocol)
        {
            foreach ((string where, Type used) in Dependencies(type))
            {
                if (Flatten(used).Any(IsExtension))
                {
                    found.Add($"{type.FullName}.{where} uses {used}");
                }
            }
        }

        Assert.Empty(found);
    }

    [Fact]
    public void The_check_sees_a_dependency_in_a_method_body()
    {
        // The client's handshake calls the deflate negotiation from its body: the scan must see that kind of use.
        Type client = typeof(Sockeye.Client.WebSocketClient);
        Type[] types = [client, .. client.GetNestedTypes(BindingFlags.NonPublic | BindingFlags.Public)];
        Assert.Contains(types.SelectMany(Dependencies), d => Flatten(d.Used).Any(IsExtension));
    }

    /// <summary>Every type a type's members name: fields, signatures, locals, and the operands of their IL.</summary>
    private static IEnumerable<(string Where, Type Used)> Dependencies(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        if (type.BaseType is { } baseType)
        {
            yield return ("base", baseType);
        }

        foreach (Type implemented in type.GetInterfaces())
        {
            yield return ("interface", implemented);
        }

        foreach (FieldInfo field in type.GetFields(all))
        {
            yield return (field.Name, field.FieldType);
        }

        foreach (MethodBase method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            if (method is MethodInfo info)
            {
                yield return (method.Name, info.ReturnType);
            }

            foreach (ParameterInfo parameter in method.GetParameters())
            {
                yield return (method.Name, parameter.ParameterType);
            }

            MethodBody? body = method.GetMethodBody();
            if (body is null)
            {
                continue;
            }

            foreach (LocalVariableInfo local in body.LocalVariables)
            {
                yield return (method.Name, local.LocalType);
            }

            foreach (Type used in BodyReferences(method, body.GetILAsByteArray()!))
            {
                yield return (method.Name, used);
            }
        }
    }

    /// <summary>The types named by the tokens in an IL stream (calls, field accesses, allocations, casts).</summary>
    private static IEnumerable<Type> BodyReferences(MethodBase method, byte[] il)
    {
        Type[]? typeArguments = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            OpCode op = s_opCodes[value];
            i += op.Size;
            switch (op.OperandType)
            {
                case OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok:
                    MemberInfo? member = method.Module.ResolveMember(BitConverter.ToInt32(il, i), typeArguments, methodArguments);
                    if (member is Type t)
                    {
                        yield return t;
                    }
                    else if (member is not null)
                    {
                        yield return member.DeclaringType!;
                        if (member is MethodInfo m)
                        {
                            yield return m.ReturnType;
                            foreach (ParameterInfo p in m.GetParameters())
                            {
                                yield return p.ParameterType;
                            }
                        }
                        else if (member is FieldInfo f)
                        {
                            yield return f.FieldType;
                        }
                    }

                    i += 4;
                    break;
                case OperandType.InlineSwitch:
                    i += 4 + (4 * BitConverter.ToInt32(il, i));
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    i += 8;
                    break;
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    i += 1;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                default: // InlineBrTarget, InlineI, InlineSig, InlineString, ShortInlineR
                    i += 4;
                    break;
            }
        }
    }

    /// <summary>A type and everything it is made of: element types (arrays, by-ref) and generic arguments.</summary>
    private static IEnumerable<Type> Flatten(Type type)
    {
        yield return type;
        if (type.HasElementType)
        {
            foreach (Type inner in Flatten(type.GetElementType()!))
            {
                yield return inner;
            }
        }

        if (type.IsGenericType)
        {
            foreach (Type argument in type.GetGenericArguments().SelectMany(Flatten))
            {
                yield return argument;
            }
        }
    }
}
