namespace EdgeMeter.Crypto.Keys;

/// <summary>Why a key file could not be used.</summary>
public enum KeyFileError
{
    /// <summary>The file is readable or writable by group or others.</summary>
    InsecurePermissions = 1,
    /// <summary>The file is neither 32 raw bytes nor 64 hex digits, or the scalar is out of range.</summary>
    Malformed = 2,
    /// <summary>The file or its directory could not be read or written.</summary>
    Io = 3,
    /// <summary>There is no key file (a reader that must not create one).</summary>
    Missing = 4,
}

/// <summary>A key file that cannot be used, with the reason as a code. The message never contains key material.</summary>
public sealed class KeyFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KeyFileException(KeyFileError error, string path, string message, Exception? inner = null)
        : base(message, inner)
    {
        Error = error;
        Path = path;
    }

    /// <summary>Why the file cannot be used.</summary>
    public KeyFileError Error { get; }

    /// <summary>The key file's path.</summary>
    public string Path { get; }
}
