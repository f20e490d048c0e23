package runopts

import (
	"fmt"
	"math/big"
	"strings"

	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

// ListOpt is a repeatable string flag shown as "list" in help, like docker's ListOpts.
type ListOpt []string

func (l *ListOpt) String() string {
	if len(*l) == 0 {
		return ""
	}
	return "[" + strings.Join(*l, " ") + "]"
}
func (l *ListOpt) Set(v string) error { *l = append(*l, v); return nil }
func (l *ListOpt) Type() string       { return "list" }

// MemBytes is a size flag accepting units ("512m").
type MemBytes int64

func (m *MemBytes) String() string {
	if *m == 0 {
		return "0"
	}
	return units.BytesSize(float64(*m))
}
func (m *MemBytes) Set(v string) error {
	n, err := units.RAMInBytes(v)
	*m = MemBytes(n)
	return err
}
func (m *MemBytes) Type() string { return "bytes" }

// SwapBytes is like MemBytes but accepts -1 for unlimited.
type SwapBytes int64

func (m *SwapBytes) String() string { return (*MemBytes)(m).String() }
func (m *SwapBytes) Set(v string) error {
	if v == "-1" {
		*m = -1
		return nil
	}
	return (*MemBytes)(m).Set(v)
}
func (m *SwapBytes) Type() string { return "bytes" }

// NanoCPUs parses a decimal CPU count into billionths of a CPU.
type NanoCPUs int64

func (n *NanoCPUs) String() string {
	if *n == 0 {
		return ""
	}
	return big.NewRat(int64(*n), 1e9).FloatString(3)
}
func (n *NanoCPUs) Set(v string) error {
	cpu, ok := new(big.Rat).SetString(v)
	if !ok {
		return fmt.Errorf("failed to parse %v as a rational number", v)
	}
	nano := cpu.Mul(cpu, big.NewRat(1e9, 1))
	if !nano.IsInt() {
		return fmt.Errorf("value is too precise")
	}
	*n = NanoCPUs(nano.Num().Int64())
	return nil
}
func (n *NanoCPUs) Type() string { return "decimal" }

// ulimitOpt collects --ulimit values.
type ulimitOpt struct{ values []*container.Ulimit }

func (u *ulimitOpt) String() string {
	if len(u.values) == 0 {
		return ""
	}
	var s []string
	for _, l := range u.values {
		s = append(s, l.String())
	}
	return "[" + strings.Join(s, " ") + "]"
}
func (u *ulimitOpt) Set(v string) error {
	l, err := units.ParseUlimit(v)
	if err != nil {
		return err
	}
	for i, old := range u.values {
		if old.Name == l.Name {
			u.values[i] = l
			return nil
		}
	}
	u.values = append(u.values, l)
	return nil
}
func (u *ulimitOpt) Type() string { return "ulimit" }

// mountOpt collects --mount values.
type mountOpt struct{ values []mount.Mount }

func (m *mountOpt) String() string { return "" }
func (m *mountOpt) Set(v string) error {
	mt, err := parseMount(v)
	if err != nil {
		return err
	}
	m.values = append(m.values, mt)
	return nil
}
func (m *mountOpt) Type() string { return "mount" }

// networkOpt collects --network values.
type networkOpt struct{ values []string }

func (n *networkOpt) String() string     { return strings.Join(n.values, ",") }
func (n *networkOpt) Set(v string) error { n.values = append(n.values, v); return nil }
func (n *networkOpt) Type() string       { return "network" }
