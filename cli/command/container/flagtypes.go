package container

import (
	"fmt"
	"math/big"
	"strings"

	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

// listOpt is a repeatable string flag shown as "list" in help, like docker's ListOpts.
type listOpt struct{ values []string }

func (l *listOpt) String() string {
	if len(l.values) == 0 {
		return ""
	}
	return "[" + strings.Join(l.values, " ") + "]"
}
func (l *listOpt) Set(v string) error { l.values = append(l.values, v); return nil }
func (l *listOpt) Type() string       { return "list" }

// memBytes is a size flag accepting units ("512m").
type memBytes int64

func (m *memBytes) String() string {
	if *m == 0 {
		return "0"
	}
	return units.BytesSize(float64(*m))
}
func (m *memBytes) Set(v string) error {
	n, err := units.RAMInBytes(v)
	*m = memBytes(n)
	return err
}
func (m *memBytes) Type() string { return "bytes" }

// swapBytes is like memBytes but accepts -1 for unlimited.
type swapBytes int64

func (m *swapBytes) String() string { return (*memBytes)(m).String() }
func (m *swapBytes) Set(v string) error {
	if v == "-1" {
		*m = -1
		return nil
	}
	return (*memBytes)(m).Set(v)
}
func (m *swapBytes) Type() string { return "bytes" }

// nanoCPUs parses a decimal CPU count into billionths of a CPU.
type nanoCPUs int64

func (n *nanoCPUs) String() string {
	if *n == 0 {
		return ""
	}
	return big.NewRat(int64(*n), 1e9).FloatString(3)
}
func (n *nanoCPUs) Set(v string) error {
	cpu, ok := new(big.Rat).SetString(v)
	if !ok {
		return fmt.Errorf("failed to parse %v as a rational number", v)
	}
	nano := cpu.Mul(cpu, big.NewRat(1e9, 1))
	if !nano.IsInt() {
		return fmt.Errorf("value is too precise")
	}
	*n = nanoCPUs(nano.Num().Int64())
	return nil
}
func (n *nanoCPUs) Type() string { return "decimal" }

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
