using System.Collections;
using System.Text.Json;

namespace EdgeMeter.Agent.Configuration;

/// <summary>
/// The configuration as keys and values: a path per value (<c>Meters:0:Unit</c>, sections joined by <c>:</c>),
/// keys compared without regard to case, later sources overriding earlier ones key by key. This is the model the
/// file and the environment share: <c>EDGEMETER_Meters__0__Dlms__Password</c> sets the same key as
/// <c>"meters": [ { "dlms": { "password": … } } ]</c> in the file.
/// </summary>
internal sealed class ConfigValues
{
    // Insertion order is kept for the spelling of a key: the first source that names it spells it.
    private readonly Dictionary<string, string?> _values = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, string> _spelling = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The value at <paramref name="path"/>, null when absent or a section.</summary>
    public string? this[string path] => _values.GetValueOrDefault(path);

    /// <summary>Sets one key (and, implicitly, its parent sections).</summary>
    public void Set(string path, string? value)
    {
        _values[path] = value;
        _spelling.TryAdd(path, path);
    }

    /// <summary>
    /// Adds a JSON document's values: objects are sections, array items sections named 0, 1, …, strings as written,
    /// numbers as their JSON text, <c>true</c>/<c>false</c> as <c>True</c>/<c>False</c>, <c>null</c> and empty
    /// objects or arrays as a key without a value. Comments and trailing commas are allowed.
    /// </summary>
    /// <exception cref="ConfigException">Not JSON, not an object, or a key twice (the message, without a source name).</exception>
    public void AddJson(ReadOnlyMemory<byte> json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException)
        {
            throw new ConfigException("Could not parse the JSON file.");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new ConfigException($"Top-level JSON element must be an object. Instead, '{document.RootElement.ValueKind}' was found.");
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var property in document.RootElement.EnumerateObject())
                Visit(property.Value, property.Name, seen);
        }
    }

    private void Visit(JsonElement element, string path, HashSet<string> seen)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
            {
                var any = false;
                foreach (var property in element.EnumerateObject())
                {
                    any = true;
                    Visit(property.Value, path + ":" + property.Name, seen);
                }

                if (!any)
                    Leaf(path, null, seen);
                break;
            }
            case JsonValueKind.Array:
            {
                var index = 0;
                foreach (var item in element.EnumerateArray())
                    Visit(item, path + ":" + (index++).ToString(System.Globalization.CultureInfo.InvariantCulture), seen);
                if (index == 0)
                    Leaf(path, null, seen);
                break;
            }
            case JsonValueKind.String:
                Leaf(path, element.GetString(), seen);
                break;
            case JsonValueKind.Number:
                Leaf(path, element.GetRawText(), seen);
                break;
            case JsonValueKind.True:
                Leaf(path, "True", seen);
                break;
            case JsonValueKind.False:
                Leaf(path, "False", seen);
                break;
            default:
                Leaf(path, null, seen);
                break;
        }
    }

    private void Leaf(string path, string? value, HashSet<string> seen)
    {
        if (!seen.Add(path))
            throw new ConfigException($"A duplicate key '{path}' was found.");
        Set(path, value);
    }

    /// <summary>Adds the variables named <paramref name="prefix"/>… (any case), the prefix cut off and <c>__</c> read as <c>:</c>.</summary>
    public void AddEnvironment(string prefix, IDictionary? variables = null)
    {
        variables ??= Environment.GetEnvironmentVariables();
        foreach (DictionaryEntry entry in variables)
        {
            if (entry.Key is string name && name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                Set(name[prefix.Length..].Replace("__", ":", StringComparison.Ordinal), entry.Value as string);
        }
    }

    /// <summary>The tree the keys describe, for binding.</summary>
    public ConfigSection Root()
    {
        var root = new ConfigSection("", "", null);
        foreach (var (path, value) in _values)
        {
            var spelled = _spelling[path];
            var node = root;
            var start = 0;
            while (true)
            {
                var colon = spelled.IndexOf(':', start);
                var end = colon < 0 ? spelled.Length : colon;
                node = node.GetOrAdd(spelled[start..end], spelled[..end]);
                if (colon < 0)
                    break;
                start = colon + 1;
            }

            node.Value = value;
        }

        return root;
    }
}

/// <summary>One section of <see cref="ConfigValues"/>: its key, its full path, a value, and child sections.</summary>
internal sealed class ConfigSection(string key, string path, string? value)
{
    private readonly Dictionary<string, ConfigSection> _children = new(StringComparer.OrdinalIgnoreCase);
    private List<ConfigSection>? _ordered;

    public string Key { get; } = key;

    /// <summary><c>Meters:0:Unit</c>, spelled as the source spelled it.</summary>
    public string Path { get; } = path;

    public string? Value { get; set; } = value;

    public bool HasChildren => _children.Count > 0;

    /// <summary>The child sections: numeric keys first, by number, then the others by name.</summary>
    public IReadOnlyList<ConfigSection> Children => _ordered ??= [.. _children.Values.Order(KeyOrder.Instance)];

    public ConfigSection? Child(string key) => _children.GetValueOrDefault(key);

    public ConfigSection GetOrAdd(string key, string path)
    {
        if (!_children.TryGetValue(key, out var child))
        {
            _children.Add(key, child = new ConfigSection(key, path, null));
            _ordered = null;
        }

        return child;
    }

    private sealed class KeyOrder : IComparer<ConfigSection>
    {
        public static readonly KeyOrder Instance = new();

        public int Compare(ConfigSection? x, ConfigSection? y)
        {
            var a = x!.Key;
            var b = y!.Key;
            var aNumber = int.TryParse(a, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i);
            var bNumber = int.TryParse(b, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var j);
            if (aNumber && bNumber)
                return i.CompareTo(j);
            if (aNumber != bNumber)
                return aNumber ? -1 : 1;
            return StringComparer.OrdinalIgnoreCase.Compare(a, b);
        }
    }
}
