using System.Globalization;
using System.Text.Json;

namespace EdgeMeter.Protocols.Modbus;

/// <summary>A register map file is malformed; the message names the file, the register and the field.</summary>
public sealed class RegisterMapException : Exception
{
    /// <summary>Creates the error.</summary>
    public RegisterMapException(string file, string? register, string? field, string reason, Exception? innerException = null)
        : base(Format(file, register, field, reason), innerException)
    {
        File = file;
        Register = register;
        Field = field;
        Reason = reason;
    }

    /// <summary>Creates an empty instance.</summary>
    public RegisterMapException() : this("?", null, null, "invalid register map") { }

    /// <summary>Creates an instance with a message.</summary>
    public RegisterMapException(string message) : this("?", null, null, message) { }

    /// <summary>Creates an instance with a message and inner exception.</summary>
    public RegisterMapException(string message, Exception innerException) : this("?", null, null, message, innerException) { }

    /// <summary>The file (or built-in map name).</summary>
    public string File { get; }

    /// <summary>The register (quantity name, or <c>registers[i]</c>), null for map-level errors.</summary>
    public string? Register { get; }

    /// <summary>The JSON field, null when the whole file is unreadable.</summary>
    public string? Field { get; }

    /// <summary>What is wrong.</summary>
    public string Reason { get; }

    private static string Format(string file, string? register, string? field, string reason) =>
        $"{file}: {(register is null ? "" : $"register '{register}': ")}{(field is null ? "" : $"field '{field}': ")}{reason}";
}

/// <summary>
/// Register maps shipped inside the assembly (from hardware/register-maps/*.json) and loaded from user files.
/// </summary>
public static class RegisterMapCatalog
{
    private const string ResourcePrefix = "EdgeMeter.Protocols.RegisterMaps.";
    private static readonly Lazy<string[]> Names = new(() =>
        [.. typeof(RegisterMapCatalog).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..^5])
            .Order(StringComparer.Ordinal)]);

    /// <summary>Standard quantities: unit they are recorded in and their OBIS code.</summary>
    public static IReadOnlyDictionary<string, (string Unit, string Obis)> StandardQuantities { get; } = new Dictionary<string, (string, string)>
    {
        ["import_active_energy"] = ("Wh", "1-0:1.8.0*255"),
        ["export_active_energy"] = ("Wh", "1-0:2.8.0*255"),
        // Import plus export: OBIS C=15 is the absolute active quantity |+A| + |-A|.
        ["total_active_energy"] = ("Wh", "1-0:15.8.0*255"),
        ["active_power"] = ("W", "1-0:16.7.0*255"),
        ["active_power_l1"] = ("W", "1-0:36.7.0*255"),
        ["active_power_l2"] = ("W", "1-0:56.7.0*255"),
        ["active_power_l3"] = ("W", "1-0:76.7.0*255"),
        ["voltage_l1"] = ("V", "1-0:32.7.0*255"),
        ["voltage_l2"] = ("V", "1-0:52.7.0*255"),
        ["voltage_l3"] = ("V", "1-0:72.7.0*255"),
        ["current_l1"] = ("A", "1-0:31.7.0*255"),
        ["current_l2"] = ("A", "1-0:51.7.0*255"),
        ["current_l3"] = ("A", "1-0:71.7.0*255"),
        ["frequency"] = ("Hz", "1-0:14.7.0*255"),
        ["power_factor"] = ("", "1-0:13.7.0*255"),
    };

    /// <summary>Names of the shipped maps, e.g. <c>eastron-sdm630</c>.</summary>
    public static IReadOnlyList<string> BuiltinNames => Names.Value;

    /// <summary>Loads a shipped map; throws <see cref="KeyNotFoundException"/> listing the known names.</summary>
    public static RegisterMap LoadBuiltin(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        using var stream = typeof(RegisterMapCatalog).Assembly.GetManifestResourceStream(ResourcePrefix + name + ".json")
            ?? throw new KeyNotFoundException($"no built-in register map '{name}'; known: {string.Join(", ", BuiltinNames)}");
        return Load(stream, name + ".json");
    }

    /// <summary>Loads a map file; throws <see cref="RegisterMapException"/> if malformed.</summary>
    public static RegisterMap LoadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            bytes = System.IO.File.ReadAllBytes(path);
        }
        catch (IOException e)
        {
            throw new RegisterMapException(path, null, null, e.Message, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new RegisterMapException(path, null, null, e.Message, e);
        }

        return Parse(bytes, path);
    }

    /// <summary>Loads every <c>*.json</c> map in <paramref name="directory"/>, by name.</summary>
    public static IReadOnlyDictionary<string, RegisterMap> LoadDirectory(string directory)
    {
        var maps = new Dictionary<string, RegisterMap>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(directory, "*.json").Order(StringComparer.Ordinal))
        {
            var map = LoadFile(file);
            if (!maps.TryAdd(map.Name, map))
            {
                throw new RegisterMapException(file, null, "name", $"map name '{map.Name}' is used by another file in {directory}");
            }
        }

        return maps;
    }

    /// <summary>
    /// Resolves a name or a path: an existing file path (or a name ending in .json) is loaded as a file,
    /// otherwise the shipped map of that name.
    /// </summary>
    public static RegisterMap Resolve(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrPath);
        return nameOrPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || System.IO.File.Exists(nameOrPath)
            ? LoadFile(nameOrPath)
            : LoadBuiltin(nameOrPath);
    }

    /// <summary>Parses a map from JSON bytes; <paramref name="fileName"/> is used in error messages.</summary>
    public static RegisterMap Parse(ReadOnlySpan<byte> json, string fileName)
    {
        JsonDocument doc;
        try
        {
            var bytes = json.ToArray();
            doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new RegisterMapException(fileName, null, null, $"not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            return new Reader(fileName).ReadMap(doc.RootElement);
        }
    }

    private static RegisterMap Load(Stream stream, string fileName)
    {
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return Parse(ms.GetBuffer().AsSpan(0, (int)ms.Length), fileName);
    }

    private sealed class Reader(string file)
    {
        private static readonly HashSet<string> MapFields = ["name", "manufacturer", "model", "documentation", "maxRegistersPerRequest", "maxGapRegisters", "defaults", "probes", "registers", "$comment"];
        private static readonly HashSet<string> RegisterFields = ["quantity", "address", "function", "type", "wordOrder", "byteOrder", "scale", "scaleFactorRegister", "unit", "obis", "scaler", "description", "$comment"];

        public RegisterMap ReadMap(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Fail(null, null, "the file must hold one JSON object");
            }

            CheckFields(root, MapFields, null);
            string name = RequiredString(root, "name", null);
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                throw Fail(null, "name", $"'{name}' must be lower-case letters, digits and '-'");
            }

            int max = root.TryGetProperty("maxRegistersPerRequest", out var m) ? Int(m, null, "maxRegistersPerRequest", 1, ModbusPdu.MaxReadRegisters)
                : throw Fail(null, "maxRegistersPerRequest", "missing (1..125)");
            int gap = root.TryGetProperty("maxGapRegisters", out var g) ? Int(g, null, "maxGapRegisters", 0, 124) : 0;
            var defaults = root.TryGetProperty("defaults", out var d) ? d : default;
            if (defaults.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Object))
            {
                throw Fail(null, "defaults", "must be an object");
            }

            if (defaults.ValueKind == JsonValueKind.Object)
            {
                CheckFields(defaults, RegisterFields, "defaults");
            }

            if (!root.TryGetProperty("registers", out var regs) || regs.ValueKind != JsonValueKind.Array || regs.GetArrayLength() == 0)
            {
                throw Fail(null, "registers", "missing or empty array");
            }

            var list = new List<RegisterDefinition>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            int index = 0;
            foreach (var r in regs.EnumerateArray())
            {
                var def = ReadRegister(r, defaults, index++, max);
                if (!seen.Add(def.Quantity))
                {
                    throw Fail(def.Quantity, "quantity", "appears twice in the map");
                }

                list.Add(def);
            }

            var probes = new List<RegisterProbe>();
            if (root.TryGetProperty("probes", out var p))
            {
                if (p.ValueKind != JsonValueKind.Array)
                {
                    throw Fail(null, "probes", "must be an array");
                }

                int pi = 0;
                foreach (var probe in p.EnumerateArray())
                {
                    string where = $"probes[{pi++}]";
                    var fn = Function(probe.TryGetProperty("function", out var f) ? f : default, where);
                    int address = probe.TryGetProperty("address", out var a) ? Address(a, where, "address") : throw Fail(where, "address", "missing");
                    if (!probe.TryGetProperty("values", out var vals) || vals.ValueKind != JsonValueKind.Array || vals.GetArrayLength() == 0)
                    {
                        throw Fail(where, "values", "missing or empty array of register values");
                    }

                    var values = vals.EnumerateArray().Select(v => (ushort)Int(v, where, "values", 0, 65535)).ToArray();
                    probes.Add(new RegisterProbe(fn, (ushort)address, values));
                }
            }

            return new RegisterMap
            {
                Name = name,
                Manufacturer = OptionalString(root, "manufacturer", null) ?? "",
                Model = OptionalString(root, "model", null) ?? "",
                Documentation = OptionalString(root, "documentation", null) ?? "",
                MaxRegistersPerRequest = max,
                MaxGapRegisters = gap,
                Registers = list,
                Probes = probes,
            };
        }

        private RegisterDefinition ReadRegister(JsonElement r, JsonElement defaults, int index, int maxPerRequest)
        {
            string where = $"registers[{index}]";
            if (r.ValueKind != JsonValueKind.Object)
            {
                throw Fail(where, null, "must be an object");
            }

            string quantity = RequiredString(r, "quantity", where);
            CheckFields(r, RegisterFields, quantity.Length > 0 ? quantity : where);
            if (quantity.Length == 0 || !quantity.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
            {
                throw Fail(where, "quantity", $"'{quantity}' must be snake_case");
            }

            where = quantity;
            JsonElement Get(string field) => r.TryGetProperty(field, out var v) ? v
                : defaults.ValueKind == JsonValueKind.Object && defaults.TryGetProperty(field, out var dv) ? dv : default;

            int address = Get("address") is { ValueKind: not JsonValueKind.Undefined } av ? Address(av, where, "address") : throw Fail(where, "address", "missing");
            var function = Function(Get("function"), where);
            var type = Get("type") is { ValueKind: JsonValueKind.String } tv ? ParseType(tv.GetString()!, where)
                : throw Fail(where, "type", "missing; one of int16, uint16, int32, uint32, int64, uint64, float32, float64");
            var wordOrder = Order(Get("wordOrder"), where, "wordOrder");
            var byteOrder = Order(Get("byteOrder"), where, "byteOrder");
            int count = RegisterCodec.RegisterCount(type);
            if (address + count > 65536)
            {
                throw Fail(where, "address", $"{address} + {count} registers runs past 65535");
            }

            if (count > maxPerRequest)
            {
                throw Fail(where, "type", $"needs {count} registers but the map allows {maxPerRequest} per request");
            }

            decimal scale = 1m;
            var sv = Get("scale");
            if (sv.ValueKind != JsonValueKind.Undefined)
            {
                if (sv.ValueKind != JsonValueKind.Number || !sv.TryGetDecimal(out scale) || scale <= 0)
                {
                    throw Fail(where, "scale", $"must be a positive number, got {sv.GetRawText()}");
                }
            }

            ushort? sf = null;
            var sfv = Get("scaleFactorRegister");
            if (sfv.ValueKind != JsonValueKind.Undefined && sfv.ValueKind != JsonValueKind.Null)
            {
                sf = (ushort)Address(sfv, where, "scaleFactorRegister");
            }

            if (!r.TryGetProperty("unit", out var uv) || uv.ValueKind != JsonValueKind.String)
            {
                throw Fail(where, "unit", "missing (string; empty for power factor)");
            }

            string unit = uv.GetString()!;
            string obis = RequiredString(r, "obis", where);
            if (!IsObis(obis))
            {
                throw Fail(where, "obis", $"'{obis}' is not an OBIS code like 1-0:1.8.0*255");
            }

            int scaler = r.TryGetProperty("scaler", out var scv) ? Int(scv, where, "scaler", -9, 9) : throw Fail(where, "scaler", "missing (decimal exponent -9..9)");
            if (RegisterMapCatalog.StandardQuantities.TryGetValue(quantity, out var standard))
            {
                if (!string.Equals(standard.Unit, unit, StringComparison.Ordinal))
                {
                    throw Fail(where, "unit", $"'{unit}' but {quantity} is recorded in '{standard.Unit}'");
                }

                if (!string.Equals(standard.Obis, obis, StringComparison.Ordinal))
                {
                    throw Fail(where, "obis", $"'{obis}' but {quantity} is {standard.Obis}");
                }
            }

            return new RegisterDefinition
            {
                Quantity = quantity,
                Address = (ushort)address,
                Function = function,
                Type = type,
                WordOrder = wordOrder,
                ByteOrder = byteOrder,
                Scale = scale,
                ScaleFactorAddress = sf,
                Unit = unit,
                Obis = obis,
                Scaler = (sbyte)scaler,
                Description = OptionalString(r, "description", where),
            };
        }

        private RegisterMapException Fail(string? register, string? field, string reason) => new(file, register, field, reason);

        private void CheckFields(JsonElement e, HashSet<string> known, string? where)
        {
            foreach (var p in e.EnumerateObject())
            {
                if (!known.Contains(p.Name))
                {
                    throw Fail(where, p.Name, $"unknown field (known: {string.Join(", ", known.Where(k => k[0] != '$'))})");
                }
            }
        }

        private string RequiredString(JsonElement e, string field, string? where) =>
            e.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
                : throw Fail(where, field, "missing or not a string");

        private string? OptionalString(JsonElement e, string field, string? where)
        {
            if (!e.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Fail(where, field, "must be a string");
        }

        private int Int(JsonElement v, string? where, string field, int min, int max)
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int n) || n < min || n > max)
            {
                throw Fail(where, field, $"must be an integer {min}..{max}, got {v.GetRawText()}");
            }

            return n;
        }

        // Addresses are zero-based protocol addresses; hex strings ("0x5B00") are accepted because manuals print them so.
        private int Address(JsonElement v, string? where, string field)
        {
            if (v.ValueKind == JsonValueKind.String)
            {
                string s = v.GetString()!;
                if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                    && int.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int hex) && hex is >= 0 and <= 65535)
                {
                    return hex;
                }

                throw Fail(where, field, $"'{s}' is not an address 0..65535 (number or \"0x...\")");
            }

            return Int(v, where, field, 0, 65535);
        }

        private ModbusFunction Function(JsonElement v, string? where) => v.ValueKind switch
        {
            JsonValueKind.Undefined => throw Fail(where, "function", "missing (3 = holding, 4 = input registers)"),
            _ => Int(v, where, "function", 3, 4) == 3 ? ModbusFunction.ReadHoldingRegisters : ModbusFunction.ReadInputRegisters,
        };

        private RegisterDataType ParseType(string s, string where) => s switch
        {
            "int16" => RegisterDataType.Int16,
            "uint16" => RegisterDataType.UInt16,
            "int32" => RegisterDataType.Int32,
            "uint32" => RegisterDataType.UInt32,
            "int64" => RegisterDataType.Int64,
            "uint64" => RegisterDataType.UInt64,
            "float32" => RegisterDataType.Float32,
            "float64" => RegisterDataType.Float64,
            _ => throw Fail(where, "type", $"'{s}' is not one of int16, uint16, int32, uint32, int64, uint64, float32, float64"),
        };

        private RegisterOrder Order(JsonElement v, string where, string field) => v.ValueKind switch
        {
            JsonValueKind.Undefined => RegisterOrder.Big,
            JsonValueKind.String when v.GetString() == "big" => RegisterOrder.Big,
            JsonValueKind.String when v.GetString() == "little" => RegisterOrder.Little,
            _ => throw Fail(where, field, $"must be \"big\" or \"little\", got {v.GetRawText()}"),
        };

        private static bool IsObis(string s)
        {
            // A-B:C.D.E*F, each group 0..255
            var parts = s.Split('-', ':', '.', '*');
            if (parts.Length != 6 || s.IndexOf('-', StringComparison.Ordinal) > s.IndexOf(':', StringComparison.Ordinal) || !s.Contains('*', StringComparison.Ordinal))
            {
                return false;
            }

            return parts.All(p => p.Length is > 0 and <= 3 && byte.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _));
        }
    }
}
