global using Xunit;
global using EdgeMeter.Interop.Tests.Support;
