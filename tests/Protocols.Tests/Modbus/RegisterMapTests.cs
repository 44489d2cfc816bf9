using System.Text;
using EdgeMeter.Protocols.Modbus;

namespace EdgeMeter.Protocols.Tests.Modbus;

public sealed class RegisterMapTests
{
    private static RegisterMap Parse(string json) => RegisterMapCatalog.Parse(Encoding.UTF8.GetBytes(json), "bad.json");

    private const string Valid = """
        {
          "name": "x", "maxRegistersPerRequest": 10,
          "registers": [
            { "quantity": "voltage_l1", "address": 0, "function": 4, "type": "float32", "unit": "V", "obis": "1-0:32.7.0*255", "scaler": -1 }
          ]
        }
        """;

    [Fact]
    public void Every_builtin_map_loads_and_uses_standard_quantities()
    {
        Assert.Contains("eastron-sdm630", RegisterMapCatalog.BuiltinNames);
        foreach (string name in RegisterMapCatalog.BuiltinNames)
        {
            var map = RegisterMapCatalog.LoadBuiltin(name);
            Assert.Equal(name, map.Name);
            Assert.NotEmpty(map.Registers);
            Assert.All(map.Registers, r => Assert.True(RegisterMapCatalog.StandardQuantities.ContainsKey(r.Quantity), $"{name}: {r.Quantity}"));
        }
    }

    [Fact]
    public void Sdm630_full_read_takes_at_most_three_requests()
    {
        var plan = ModbusReadPlan.Create(RegisterMapCatalog.LoadBuiltin("eastron-sdm630"));
        Assert.InRange(plan.Blocks.Count, 1, 3);
        Assert.All(plan.Blocks, b => Assert.InRange(b.Count, 1, 80));
    }

    [Fact]
    public void Unknown_builtin_lists_known_names()
    {
        var e = Assert.Throws<KeyNotFoundException>(() => RegisterMapCatalog.LoadBuiltin("nope"));
        Assert.Contains("eastron-sdm630", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Valid_minimal_map_parses()
    {
        var map = Parse(Valid);
        var r = Assert.Single(map.Registers);
        Assert.Equal(ModbusFunction.ReadInputRegisters, r.Function);
        Assert.Equal(RegisterDataType.Float32, r.Type);
        Assert.Equal(-1, r.Scaler);
    }

    [Theory]
    [InlineData("\"type\": \"float32\"", "\"type\": \"float33\"", "type")]
    [InlineData("\"function\": 4", "\"function\": 5", "function")]
    [InlineData("\"address\": 0", "\"address\": 70000", "address")]
    [InlineData("\"address\": 0", "\"address\": \"0xZZ\"", "address")]
    [InlineData("\"scaler\": -1", "\"scaler\": \"a\"", "scaler")]
    [InlineData("\"obis\": \"1-0:32.7.0*255\"", "\"obis\": \"32.7.0\"", "obis")]
    [InlineData("\"unit\": \"V\"", "\"unit\": \"kV\"", "unit")]
    [InlineData("\"scaler\": -1", "\"scaler\": -1, \"scale\": -2", "scale")]
    [InlineData("\"scaler\": -1", "\"scaler\": -1, \"wordorder\": \"big\"", "wordorder")]
    public void Malformed_register_names_file_register_and_field(string from, string to, string field)
    {
        var e = Assert.Throws<RegisterMapException>(() => Parse(Valid.Replace(from, to, StringComparison.Ordinal)));
        Assert.Equal("bad.json", e.File);
        Assert.Equal("voltage_l1", e.Register);
        Assert.Equal(field, e.Field);
        Assert.StartsWith($"bad.json: register 'voltage_l1': field '{field}': ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_json_names_the_file()
    {
        var e = Assert.Throws<RegisterMapException>(() => Parse("{ \"name\": "));
        Assert.StartsWith("bad.json: not valid JSON", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_quantity_is_rejected()
    {
        string json = Valid.Replace("]", ", { \"quantity\": \"voltage_l1\", \"address\": 2, \"function\": 4, \"type\": \"float32\", \"unit\": \"V\", \"obis\": \"1-0:32.7.0*255\", \"scaler\": -1 } ]", StringComparison.Ordinal);
        var e = Assert.Throws<RegisterMapException>(() => Parse(json));
        Assert.Equal("quantity", e.Field);
    }

    [Fact]
    public void Load_file_reports_missing_file_by_path()
    {
        var e = Assert.Throws<RegisterMapException>(() => RegisterMapCatalog.LoadFile("/nonexistent/m.json"));
        Assert.Equal("/nonexistent/m.json", e.File);
    }

    [Fact]
    public void Plan_merges_adjacent_and_gapped_registers_within_the_limits()
    {
        static RegisterDefinition R(string q, ushort a, ModbusFunction f = ModbusFunction.ReadHoldingRegisters) => new()
        {
            Quantity = q, Address = a, Function = f, Type = RegisterDataType.Int32, Unit = "W", Obis = "1-0:16.7.0*255", Scaler = 0,
        };

        var map = new RegisterMap
        {
            Name = "t", MaxRegistersPerRequest = 10, MaxGapRegisters = 2,
            Registers = [R("a", 0), R("b", 2), R("c", 6), R("d", 8), R("e", 20), R("f", 0, ModbusFunction.ReadInputRegisters)],
        };
        var plan = ModbusReadPlan.Create(map);
        Assert.Equal(
            new[] { new ModbusReadBlock(ModbusFunction.ReadHoldingRegisters, 0, 10), new ModbusReadBlock(ModbusFunction.ReadHoldingRegisters, 20, 2), new ModbusReadBlock(ModbusFunction.ReadInputRegisters, 0, 2) },
            plan.Blocks);

        var strict = ModbusReadPlan.Create(map with { MaxGapRegisters = 0 });
        Assert.Equal(4, strict.Blocks.Count);
    }
}
