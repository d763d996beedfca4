namespace Sockeye.Conformance.Cases;

/// <summary>Every case, in Autobahn's order.</summary>
internal static class CaseCatalog
{
    public static IReadOnlyList<ConformanceCase> All { get; } =
    [
        .. FramingCases.All(),
        .. PingPongCases.All(),
        .. ReservedBitsCases.All(),
        .. OpcodeCases.All(),
        .. FragmentationCases.All(),
        .. Utf8Cases.All(),
        .. CloseCases.All(),
        .. LimitsCases.All(),
        .. AutoFragmentationCases.All(),
        .. MaskingCases.All(),
        .. DeflateCases.All(),
    ];
}
