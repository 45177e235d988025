-- A Lua workload for hbft's conformance tests: tables, strings and
-- patterns, closures, coroutines, integer and float arithmetic, sorting,
-- string.format of floats, error handling. Deterministic output.

local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
print("fib(20) =", fib(20))

-- integers and floats
print(7 // 2, 7 % 3, -7 // 2, -7 % 3, 7 / 2, 2^10, math.maxinteger, math.mininteger)
print(string.format("%.14g %.3f %e %g %5.1f %x", math.pi, math.sqrt(2), 1/3, 1e20, -2.25, 255))
print(math.floor(-3.5), math.ceil(-3.5), math.abs(-4), math.fmod(7, 3), math.tointeger(3.0))
print(3 == 3.0, math.type(3), math.type(3.0), 1e308 * 10, -(0/0) ~= -(0/0))

-- strings and patterns
local text = "The quick brown fox jumps over the lazy dog; the dog sleeps."
local counts = {}
for word in text:lower():gmatch("%a+") do counts[word] = (counts[word] or 0) + 1 end
local words = {}
for w, c in pairs(counts) do words[#words + 1] = w end
table.sort(words, function(a, b) if counts[a] ~= counts[b] then return counts[a] > counts[b] end return a < b end)
for i = 1, 5 do io.write(words[i], "=", counts[words[i]], " ") end
print()
print((text:gsub("(%a+)", function(w) return #w > 4 and w:upper() or w end)))
print(text:find("fox"), text:match("(%a+) dog"), ("x"):rep(5, "-"), text:sub(-7, -2))
print(string.byte("ABC", 1, 3), string.char(72, 105), ("%d items"):format(3))

-- closures and higher-order functions
local function counter()
  local n = 0
  return function(step) n = n + (step or 1); return n end
end
local c1, c2 = counter(), counter()
c1(); c1(5); c2(10)
print("counters", c1(), c2())
local function map(t, f) local r = {} for i, v in ipairs(t) do r[i] = f(v) end return r end
print(table.concat(map({1, 2, 3, 4, 5}, function(x) return x * x end), ","))

-- coroutines: a generator of primes
local primes = coroutine.wrap(function()
  local found = {}
  local n = 2
  while true do
    local is_prime = true
    for _, p in ipairs(found) do
      if p * p > n then break end
      if n % p == 0 then is_prime = false break end
    end
    if is_prime then found[#found + 1] = n; coroutine.yield(n) end
    n = n + 1
  end
end)
local ps = {}
for i = 1, 25 do ps[i] = primes() end
print("primes", table.concat(ps, " "))

-- sorting and a checksum over a larger table
local t = {}
local x = 12345
for i = 1, 2000 do x = (x * 1103515245 + 12345) % 2147483648; t[i] = x % 100000 end
table.sort(t)
local sum = 0
for i, v in ipairs(t) do sum = (sum * 31 + v) % 4294967296 end
print("sorted", #t, t[1], t[#t], string.format("%08x", sum))

-- errors
local ok, err = pcall(function() error({code = 42}) end)
print("pcall", ok, type(err), err.code)
ok, err = pcall(function() return nil + 1 end)
print("pcall", ok, (err:gsub("^.-:%d+: ", "")))
print(select("#", 1, nil, 3), select(2, "a", "b", "c"))

-- utf8 and string <-> number
print(utf8.char(72, 228, 8364), utf8.len("häll€"), tonumber("0x1F"), tonumber("1e2"), tostring(1/0))
