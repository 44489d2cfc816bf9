namespace EdgeMeter.Protocols;
