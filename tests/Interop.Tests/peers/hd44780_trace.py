#!/usr/bin/env python3
"""Rebuilds what an HD44780 character LCD behind a PCF8574 I2C backpack shows, from a byte trace.

Independent of the agent's C# code: written from the HD44780U datasheet (instruction set, 4-bit interface,
DDRAM/CGRAM addressing) and the PCF8574 datasheet (each byte written sets the eight port pins P0..P7).

Input: a trace file, one two-digit hex byte per line: every byte written to the backpack's address, in order.
Output (stdout, JSON): every distinct screen after each character written, the final screen, the CGRAM glyphs,
and the errors found. Exit status 0 when there are no errors, 1 otherwise, 2 on bad usage.

Model:
- The backpack's port pins drive RS, R/W, E, the backlight and D4..D7 (the bit of each is an option).
- The controller latches the data pins on the falling edge of E (datasheet: write operation timing); the pins
  in effect while E was high are the ones latched.
- After power-on the controller is in 8-bit mode; with only D4..D7 wired every E pulse is a whole instruction
  whose low four bits are not driven (taken as 0 here; only function set matters there). Function set with
  DL=0 (0x2X) switches to 4-bit mode: then each byte is two E pulses, high nibble first.
- Instructions: clear display (0x01), return home (0x02/0x03), entry mode set (0x04-0x07), display on/off control
  (0x08-0x0F), cursor or display shift (0x10-0x1F), function set (0x20-0x3F), set CGRAM address (0x40-0x7F), set
  DDRAM address (0x80-0xFF). 0x00 is no instruction.
- DDRAM in two-line mode: row 1 at 0x00-0x27, row 2 at 0x40-0x67; a 20x4 module shows rows 3 and 4 at 0x14 and
  0x54 (continuations of rows 1 and 2). The address counter wraps from 0x27 to 0x40 and from 0x67 to 0x00.
- CGRAM: eight 5x8 characters at CGRAM addresses 0x00-0x3F, eight bytes each; character codes 0x00-0x07 (and their
  aliases 0x08-0x0F) show them.
- Printable: codes 0x20-0x7F and 0xA1-0xFF of the character ROM; codes 0x00-0x0F are glyphs, which must be fully
  defined (all eight rows written) before a character using them is written.
"""
import argparse
import json
import sys


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("trace")
    p.add_argument("--columns", type=int, default=16)
    p.add_argument("--rows", type=int, default=2, choices=[1, 2, 4])
    p.add_argument("--pins", default="rs=0,rw=1,e=2,bl=3,d4=4,d5=5,d6=6,d7=7",
                   help="PCF8574 port bit of each signal; rw=-1 when R/W is not wired to the expander")
    return p.parse_args(argv)


class Lcd:
    def __init__(self, columns, rows, pins):
        self.columns = columns
        self.rows = rows
        self.pins = pins
        self.eight_bit = True
        self.high_nibble = None
        self.two_line = False
        self.increment = True
        self.display_on = False
        self.ddram = [None] * 0x80
        self.cgram = [0] * 0x40
        self.cgram_written = [set() for _ in range(8)]
        self.address = 0
        self.in_cgram = False
        self.prev = None
        self.errors = []
        self.screens = []
        self.instructions = 0
        self.characters = 0

    def bit(self, value, name):
        b = self.pins[name]
        return 0 if b < 0 else (value >> b) & 1

    def nibble(self, value):
        return (self.bit(value, "d7") << 3) | (self.bit(value, "d6") << 2) | (self.bit(value, "d5") << 1) | self.bit(value, "d4")

    def feed(self, value, index):
        prev = self.prev
        self.prev = value
        if prev is None or not (self.bit(prev, "e") == 1 and self.bit(value, "e") == 0):
            return
        # Falling edge of E: latch what the pins held while E was high.
        if self.bit(prev, "rw"):
            self.errors.append(f"byte {index}: E pulse with R/W high (a read)")
            return
        rs = self.bit(prev, "rs")
        n = self.nibble(prev)
        if self.eight_bit:
            self.execute(rs, n << 4, index)
            return
        if self.high_nibble is None:
            self.high_nibble = (rs, n)
            return
        hrs, hn = self.high_nibble
        self.high_nibble = None
        if hrs != rs:
            self.errors.append(f"byte {index}: RS changed between the two nibbles of one transfer")
        self.execute(rs, (hn << 4) | n, index)

    def execute(self, rs, v, index):
        if rs:
            self.write_data(v, index)
            return
        self.instructions += 1
        if v & 0x80:
            self.address = v & 0x7F
            self.in_cgram = False
        elif v & 0x40:
            self.address = v & 0x3F
            self.in_cgram = True
        elif v & 0x20:
            if self.eight_bit and not (v & 0x10):
                self.eight_bit = False
                self.high_nibble = None
            elif not self.eight_bit and (v & 0x10):
                self.errors.append(f"byte {index}: switched back to 8-bit mode with only D4..D7 wired")
            if not self.eight_bit:
                self.two_line = bool(v & 0x08)
        elif v & 0x10:
            if v & 0x08:
                self.errors.append(f"byte {index}: display shift 0x{v:02x}: screens would not match DDRAM")
        elif v & 0x08:
            self.display_on = bool(v & 0x04)
        elif v & 0x04:
            self.increment = bool(v & 0x02)
            if v & 0x01:
                self.errors.append(f"byte {index}: entry mode with display shift 0x{v:02x}")
        elif v & 0x02:
            self.address = 0
            self.in_cgram = False
        elif v & 0x01:
            self.ddram = [0x20] * 0x80
            self.address = 0
            self.in_cgram = False
            self.increment = True

    def write_data(self, v, index):
        if self.eight_bit:
            self.errors.append(f"byte {index}: data written before the 4-bit interface was set up")
            return
        if self.in_cgram:
            slot, row = self.address >> 3, self.address & 7
            self.cgram[self.address] = v & 0x1F
            self.cgram_written[slot].add(row)
            self.address = (self.address + (1 if self.increment else -1)) & 0x3F
            return
        self.characters += 1
        if v < 0x10:
            slot = v & 7
            if len(self.cgram_written[slot]) < 8:
                self.errors.append(f"byte {index}: glyph {slot} shown before it was defined")
        elif not (0x20 <= v <= 0x7F or 0xA1 <= v <= 0xFF):
            self.errors.append(f"byte {index}: code 0x{v:02x} is not a printable character")
        self.ddram[self.address] = v
        self.step_ddram()
        self.snapshot()

    def step_ddram(self):
        a = self.address
        if self.two_line:
            if self.increment:
                a = 0x40 if a == 0x27 else 0x00 if a == 0x67 else a + 1
            else:
                a = 0x67 if a == 0x00 else 0x27 if a == 0x40 else a - 1
        else:
            a = (a + (1 if self.increment else -1)) % 80
        self.address = a & 0x7F

    def row_start(self, row):
        return [0x00, 0x40, 0x00 + self.columns, 0x40 + self.columns][row]

    def screen(self):
        lines = []
        for r in range(self.rows):
            s = []
            for c in range(self.columns):
                v = self.ddram[self.row_start(r) + c]
                if v is None:
                    s.append("\ufffd")
                elif v < 0x10:
                    s.append(chr(0xE000 + (v & 7)))
                elif 0x20 <= v <= 0x7F and v != 0x5C:
                    s.append(chr(v))
                else:
                    s.append(f"\\x{v:02x}")
            lines.append("".join(s))
        return lines

    def snapshot(self):
        s = self.screen()
        if not self.screens or self.screens[-1] != s:
            self.screens.append(s)


def main(argv):
    args = parse_args(argv)
    pins = {}
    for item in args.pins.split(","):
        name, _, bit = item.partition("=")
        pins[name.strip()] = int(bit)
    for name in ("rs", "e", "d4", "d5", "d6", "d7"):
        if name not in pins:
            print(f"--pins: {name} missing", file=sys.stderr)
            return 2
    pins.setdefault("rw", -1)
    pins.setdefault("bl", -1)
    lcd = Lcd(args.columns, args.rows, pins)
    with open(args.trace, encoding="ascii") as f:
        for i, line in enumerate(f):
            line = line.strip()
            if len(line) != 2:
                lcd.errors.append(f"line {i + 1}: '{line}' is not one two-digit hex byte")
                continue
            lcd.feed(int(line, 16), i)
    if lcd.rows > 1 and not lcd.two_line:
        lcd.errors.append("the controller was never put in two-line mode")
    glyphs = {str(slot): lcd.cgram[slot * 8:slot * 8 + 8] for slot in range(8) if len(lcd.cgram_written[slot]) == 8}
    final = lcd.screen()
    if any("\ufffd" in line for line in final):
        lcd.errors.append("part of the final screen was never written nor cleared")
    json.dump({
        "screens": lcd.screens,
        "final": final,
        "glyphs": glyphs,
        "displayOn": lcd.display_on,
        "backlight": bool(lcd.bit(lcd.prev, "bl")) if lcd.prev is not None and pins["bl"] >= 0 else None,
        "instructions": lcd.instructions,
        "characters": lcd.characters,
        "errors": lcd.errors,
    }, sys.stdout, ensure_ascii=True)
    sys.stdout.write("\n")
    return 1 if lcd.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
