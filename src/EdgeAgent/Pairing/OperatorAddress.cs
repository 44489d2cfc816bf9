namespace EdgeMeter.Agent.Pairing;

/// <summary>Validation of the operator account address and the label entered on the pairing page.</summary>
internal static class OperatorAddress
{
    /// <summary>
    /// Accepts <c>0x</c> followed by 40 hex digits in any case and returns it in lower case. EIP-55 mixed-case
    /// checksums are not verified here (that needs Keccak from the crypto layer); lower-casing keeps comparisons simple.
    /// </summary>
    public static bool TryNormalize(string? text, out string normalized)
    {
        normalized = string.Empty;
        if (text is null)
        {
            return false;
        }

        var s = text.AsSpan().Trim();
        if (s.Length != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        {
            return false;
        }

        var hex = s[2..];
        bool allZero = true;
        foreach (char c in hex)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }

            allZero &= c == '0';
        }

        // The zero address cannot sign anything, so pairing with it would silently disable operator updates.
        if (allZero)
        {
            return false;
        }

        normalized = string.Concat("0x", hex.ToString().ToLowerInvariant());
        return true;
    }

    /// <summary>Trims the label; null or blank means no label. Rejects control characters and over-long labels.</summary>
    public static bool TryNormalizeLabel(string? text, out string? normalized)
    {
        normalized = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        var trimmed = text.Trim();
        if (trimmed.Length > PairingLimits.MaxLabelLength)
        {
            return false;
        }

        foreach (char c in trimmed)
        {
            if (char.IsControl(c))
            {
                return false;
            }
        }

        normalized = trimmed;
        return true;
    }
}
