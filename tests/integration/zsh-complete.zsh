# zsh -f zsh-complete.zsh FPATH_DIR LINE: types LINE and a tab into an
# interactive zsh on a pty, as a user would, and prints what the line
# became.  Used by install.sh to drive the installed zsh completion.
zmodload zsh/zpty
zpty -b comp "TERM=dumb zsh -f -i"
zpty -w comp "PS1='> '; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
zpty -w -n comp "$2"$'\t'
sleep 1
zpty -w -n comp $'\C-a#\n' # comment the line out, so it runs nothing
sleep 0.5
out= all=
while zpty -r -t comp out; do all+=$out; done
zpty -d comp
# The commented line as zsh echoed it, without the prompt and the trailing
# blanks and marks of its redraw.
print -r -- "$all" | tr -d '\r' | grep -a -o "#$2[^[:cntrl:]]*" | tail -n 1 |
	sed -e 's/^#//' -e 's/[[:space:]#]*$//'
