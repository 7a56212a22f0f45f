--[[
  Every key of a thread, prepended to the scripts that walk a whole thread (delete-thread,
  expire-thread; src/core/state/checkpoint/store-scripts.ts has the twin): the namespaces set,
  the fence, and per namespace its index, head, channel values and each checkpoint of the
  index. The thread's other keys are named after its namespaces key (store-keys.ts): a
  namespace's index is it with ":namespaces" replaced by ":n:<ns>:index", and so on.
]]
local function thread_keys(namespaces, fence)
  local base = string.sub(namespaces, 1, -12)
  local out = {}
  for _, ns in ipairs(redis.call('SMEMBERS', namespaces)) do
    local space = base .. ':n:' .. ns
    for _, id in ipairs(redis.call('HKEYS', space .. ':index')) do
      out[#out + 1] = space .. ':c:' .. id
    end
    out[#out + 1] = space .. ':index'
    out[#out + 1] = space .. ':head'
    out[#out + 1] = space .. ':values'
  end
  out[#out + 1] = namespaces
  out[#out + 1] = fence
  return out
end
