package names

// adjectives are friendly qualities; each pairs with any surname.
var adjectives = []string{
	"admiring", "agile", "amazing", "ardent", "audacious", "blissful", "bold", "boring",
	"brave", "bright", "brisk", "buoyant", "calm", "candid", "careful", "cheerful",
	"clever", "cosmic", "courteous", "crafty", "curious", "daring", "dazzling", "deft",
	"determined", "devoted", "diligent", "dreamy", "eager", "earnest", "elated", "eloquent",
	"epic", "fearless", "fervent", "festive", "focused", "fond", "frosty", "gallant",
	"gentle", "gifted", "gleeful", "glowing", "graceful", "gracious", "happy", "hardy",
	"hearty", "helpful", "honest", "hopeful", "humble", "inspired", "jolly", "jovial",
	"keen", "kind", "lively", "loyal", "lucid", "lucky", "magical", "mellow",
	"merry", "mindful", "modest", "musing", "nifty", "nimble", "noble", "optimistic",
	"patient", "peaceful", "playful", "plucky", "polished", "practical", "proud", "quiet",
	"quirky", "radiant", "relaxed", "resolute", "serene", "sharp", "sincere", "spirited",
	"steady", "stoic", "sunny", "swift", "tender", "thoughtful", "tidy", "upbeat",
	"valiant", "vibrant", "vigilant", "witty", "zealous", "zen",
}

// surnames are of notable scientists, mathematicians, engineers and hackers.
var surnames = []string{
	// Computing pioneers.
	"aiken", "atanasoff", "babbage", "backus", "baran", "cerf", "eckert", "engelbart",
	"hollerith", "hopper", "kahn", "kilby", "licklider", "lovelace", "mauchly", "neumann",
	"noyce", "postel", "turing", "wilkes", "zuse", "sutherland", "cray", "amdahl",
	// Systems, languages and networks.
	"bellovin", "brooks", "codd", "dahl", "gosling", "griesemer", "hamilton", "joy",
	"kay", "kernighan", "lampson", "lattner", "liskov", "matsumoto", "mckusick", "metcalfe",
	"nygaard", "odersky", "perlman", "pike", "ritchie", "rossum", "stonebraker", "stroustrup",
	"tanenbaum", "thacker", "thompson", "torvalds", "wirth", "kleinrock", "cutler", "hickey",
	// Theory and algorithms.
	"aho", "blum", "church", "cook", "dijkstra", "floyd", "hoare", "hopcroft",
	"karp", "kleene", "knuth", "lamport", "milner", "papadimitriou", "rabin", "sipser",
	"tarjan", "ullman", "valiant", "yao", "goldwasser", "micali", "kahan", "parnas",
	// Information, cryptography and security.
	"adleman", "diffie", "hamming", "hellman", "huffman", "lempel", "merkle", "nyquist",
	"rivest", "shamir", "shannon", "viterbi", "wiener", "ziv", "schneier", "kocher",
	"spafford", "bernstein", "golomb", "solomon",
	// Hackers and free software.
	"stallman", "wozniak", "raymond", "carmack", "draper", "mitnick", "tridgell", "swartz",
	"tso", "poulsen", "wall", "moolenaar",
	// Artificial intelligence.
	"bengio", "feigenbaum", "hinton", "lecun", "mccarthy", "minsky", "newell", "norvig",
	"pearl", "rosenblatt", "weizenbaum", "pitts",
	// Mathematics.
	"agnesi", "archimedes", "boole", "cantor", "cauchy", "euclid", "euler", "galois",
	"gauss", "germain", "godel", "hilbert", "hypatia", "kolmogorov", "kovalevskaya", "lagrange",
	"laplace", "leibniz", "mirzakhani", "noether", "poincare", "ramanujan", "riemann", "fourier",
	// Physics.
	"bardeen", "bohr", "boltzmann", "bose", "chadwick", "curie", "dirac", "einstein",
	"faraday", "fermi", "feynman", "heisenberg", "kelvin", "maxwell", "meitner", "newton",
	"pauli", "planck", "raman", "rutherford", "schrodinger", "shockley", "tesla", "wu",
	// Astronomy.
	"brahe", "burnell", "chandrasekhar", "copernicus", "galileo", "hubble", "herschel", "kepler",
	"leavitt", "payne", "rubin", "sagan",
	// Chemistry, biology and medicine.
	"crick", "darwin", "fleming", "franklin", "goodall", "hodgkin", "lavoisier", "mcclintock",
	"mendel", "mendeleev", "pasteur", "salk", "jenner", "khorana", "dalton", "avogadro",
	// Space and applied mathematics.
	"johnson", "vaughan", "jackson", "easley", "kalam", "sarabhai",
}
