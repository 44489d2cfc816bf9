// EdgeMeter runs on Linux gateways only (systemd, adjtimex, /dev/i2c, Unix file modes).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
