-- A CPU-bound Lua benchmark: N rounds (arg[1], default 3) of a table-heavy
-- sieve, string building and hashing, and float arithmetic (a Mandelbrot
-- row count). Prints one checksum per round.
local rounds = tonumber(arg and arg[1]) or 3

local function sieve(n)
  local composite, count = {}, 0
  for i = 2, n do
    if not composite[i] then
      count = count + 1
      for j = i * i, n, i do composite[j] = true end
    end
  end
  return count
end

local function strings(n)
  local parts = {}
  for i = 1, n do parts[#parts + 1] = string.format("%d:%x", i, i * 7919) end
  local s = table.concat(parts, ",")
  local h = 0
  for i = 1, #s do h = (h * 31 + s:byte(i)) % 4294967296 end
  return h
end

local function mandel(size)
  local inside = 0
  for y = 0, size - 1 do
    local ci = 2 * y / size - 1
    for x = 0, size - 1 do
      local cr, zr, zi = 2 * x / size - 1.5, 0.0, 0.0
      local k = 0
      while k < 50 and zr * zr + zi * zi <= 4 do
        zr, zi = zr * zr - zi * zi + cr, 2 * zr * zi + ci
        k = k + 1
      end
      if k == 50 then inside = inside + 1 end
    end
  end
  return inside
end

for r = 1, rounds do
  print(r, sieve(20000), strings(4000), mandel(40))
end
