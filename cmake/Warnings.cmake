# One warning set for both builds; TLSROUTER_WERROR (on in every preset)
# turns them into errors.
set(TLSROUTER_WARNINGS
  -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wold-style-definition -Wpointer-arith -Wvla -Wundef -Wcast-align
  -Wno-unused-parameter)
if(TLSROUTER_WERROR)
  list(APPEND TLSROUTER_WARNINGS -Werror)
endif()

# tr_target_warnings(target): applied to our own targets only, never to the
# dependencies' headers (they come in as SYSTEM includes).
function(tr_target_warnings target)
  target_compile_options(${target} PRIVATE ${TLSROUTER_WARNINGS})
endfunction()
