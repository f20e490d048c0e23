package names

import (
	"math/rand/v2"
	"strconv"
)

// Generate returns a random name "adjective_surname", such as
// "focused_hopper". When retry > 0, as after a name collision, a random
// digit is appended to make another collision less likely.
func Generate(retry int) string {
	for {
		name := adjectives[rand.IntN(len(adjectives))] + "_" + surnames[rand.IntN(len(surnames))]
		if name == "boring_wozniak" { // Steve Wozniak is not boring (Docker's rule too)
			continue
		}
		if retry > 0 {
			name += strconv.Itoa(rand.IntN(10))
		}
		return name
	}
}
